//! Every Redis key Mist uses, in one place. Each is prefixed by the namespace so several
//! deployments, and parallel tests, share one Redis without seeing each other.

#[derive(Debug, Clone)]
pub struct Keys {
    namespace: String,
}

impl Keys {
    pub fn new(namespace: &str) -> Self {
        Self { namespace: namespace.to_string() }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Hash: context name → `ContextConfig` JSON (the `default` context is not stored).
    pub fn contexts(&self) -> String {
        format!("{}:contexts", self.namespace)
    }

    /// String: why a context is broken (its last worker start error), while it is.
    /// `read_submission.lua` builds it from `prefix` in this format.
    pub fn context_broken(&self, name: &str) -> String {
        format!("{}:context:{name}:broken", self.namespace)
    }

    /// Hash: endpoint name → `EndpointInfo` JSON.
    pub fn endpoints(&self) -> String {
        format!("{}:endpoints", self.namespace)
    }

    /// Hash: artifact name → `ArtifactRecord` JSON.
    pub fn artifacts(&self) -> String {
        format!("{}:artifacts", self.namespace)
    }

    /// Hash: agent id → agent record (registered worker agents).
    pub fn agents(&self) -> String {
        format!("{}:agents", self.namespace)
    }

    /// Hash: worker id → worker record (live workers).
    pub fn workers(&self) -> String {
        format!("{}:workers", self.namespace)
    }

    /// The namespace with its separator; Lua scripts build index keys from it, in the
    /// formats of the `jobs_*` keys below.
    pub fn prefix(&self) -> String {
        format!("{}:", self.namespace)
    }

    /// Hash: one job's record (fields of `JobDetails`, plus the `request` it runs).
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.namespace)
    }

    /// String: the job's log lines.
    pub fn job_log(&self, id: &str) -> String {
        format!("{}:job:{id}:log", self.namespace)
    }

    /// Sorted set of every job id, scored by create time: the listing index.
    pub fn jobs_all(&self) -> String {
        format!("{}:jobs:all", self.namespace)
    }

    /// Sorted set of the jobs in a status (kept by `transition.lua`).
    pub fn jobs_by_status(&self, status: &str) -> String {
        format!("{}:jobs:status:{status}", self.namespace)
    }

    pub fn jobs_by_endpoint(&self, endpoint: &str) -> String {
        format!("{}:jobs:endpoint:{endpoint}", self.namespace)
    }

    pub fn jobs_by_endpoint_status(&self, endpoint: &str, status: &str) -> String {
        format!("{}:jobs:endpoint:{endpoint}:status:{status}", self.namespace)
    }

    /// Pub/sub channel told the id of every job that reaches a done status.
    pub fn done_channel(&self) -> String {
        format!("{}:job-done", self.namespace)
    }

    /// String: a worker's record (`WorkerRecord` JSON), kept after it stopped.
    pub fn worker(&self, id: &str) -> String {
        format!("{}:worker:{id}", self.namespace)
    }

    /// Sorted set of the jobs a worker ran, scored by create time.
    pub fn worker_jobs(&self, id: &str) -> String {
        format!("{}:worker:{id}:jobs", self.namespace)
    }

    /// Sorted set: agent id → time of its last heartbeat.
    pub fn agent_heartbeats(&self) -> String {
        format!("{}:agents:heartbeat", self.namespace)
    }

    /// String: the instance id of the active dispatcher, with a time to live.
    pub fn dispatcher_lease(&self) -> String {
        format!("{}:dispatcher:lease", self.namespace)
    }

    /// Every key of this namespace, for tests that clean up after themselves.
    pub fn pattern_all(&self) -> String {
        format!("{}:*", self.namespace)
    }
}
