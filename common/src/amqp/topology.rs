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
}
