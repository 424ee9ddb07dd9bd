//! Every exchange, queue and routing key name, in one place, each prefixed by the
//! namespace so deployments and parallel tests sharing a broker never meet.

#[derive(Debug, Clone)]
pub struct Topology {
    namespace: String,
}

impl Topology {
    pub fn new(namespace: &str) -> Self {
        Self { namespace: namespace.to_string() }
    }

    /// Direct exchange that job requests are published to (by the API or any program).
    pub fn requests_exchange(&self) -> String {
        format!("{}.requests", self.namespace)
    }

    /// Routing key of a run request on the requests exchange.
    pub fn run_routing_key(&self) -> &'static str {
        "run"
    }

    /// Durable queue the dispatcher consumes run requests from.
    pub fn requests_queue(&self) -> String {
        format!("{}.requests.run", self.namespace)
    }

    /// Topic exchange of job events, routing key `<event>.<endpoint>`.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.namespace)
    }

    /// Requests that cannot become jobs end here with the reason, never dropped.
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.requests.dead", self.namespace)
    }

    /// Direct exchange of the parts' own messages: commands to agents, notices to the
    /// dispatcher.
    pub fn control_exchange(&self) -> String {
        format!("{}.control", self.namespace)
    }

    /// Durable queue of everything the dispatcher must hear: agents' notices, the API's
    /// requests, and the job events that free or change a slot.
    pub fn dispatcher_queue(&self) -> String {
        format!("{}.dispatcher", self.namespace)
    }

    /// Routing key of the dispatcher's queue on the control exchange.
    pub fn dispatcher_routing_key(&self) -> &'static str {
        "dispatcher"
    }

    /// The job events the dispatcher's queue is bound to.
    pub fn dispatcher_event_keys(&self) -> [&'static str; 4] {
        ["finished.#", "failed.#", "canceled.#", "cancelling.#"]
    }

    /// An agent's own command queue; it lives as long as the agent's connection.
    pub fn agent_queue(&self, agent_id: &str) -> String {
        format!("{}.agent.{agent_id}", self.namespace)
    }

    pub fn agent_routing_key(&self, agent_id: &str) -> String {
        format!("agent.{agent_id}")
    }
}
