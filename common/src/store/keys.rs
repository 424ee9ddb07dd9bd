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

    /// Every key of this namespace, for tests that clean up after themselves.
    pub fn pattern_all(&self) -> String {
        format!("{}:*", self.namespace)
    }
}
