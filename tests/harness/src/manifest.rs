//! Manifests for guest components, as TOML text a test can adjust.

use crate::guest::Guest;

/// Builder for a guest's manifest.
#[derive(Debug, Clone)]
pub struct ManifestBuilder {
    id: String,
    worlds: Vec<&'static str>,
    capabilities: Vec<&'static str>,
    allowed_hosts: Vec<String>,
    secrets: Vec<String>,
    memory_bytes: usize,
    deadline_ms: u64,
    output_bytes: usize,
}

/// A manifest for `guest` with modest limits and no capabilities.
pub fn manifest(guest: Guest) -> ManifestBuilder {
    ManifestBuilder {
        id: guest.id().to_string(),
        worlds: if guest == Guest::Echo {
            vec!["channel", "backoffice"]
        } else {
            vec!["channel"]
        },
        capabilities: Vec::new(),
        allowed_hosts: Vec::new(),
        secrets: Vec::new(),
        memory_bytes: 32 << 20,
        deadline_ms: 2_000,
        output_bytes: 1 << 20,
    }
}

impl ManifestBuilder {
    /// Request capabilities.
    pub fn capabilities(mut self, caps: &[&'static str]) -> Self {
        self.capabilities = caps.to_vec();
        self
    }

    /// Request outbound hosts (adds the `http` capability).
    pub fn allowed_hosts(mut self, hosts: &[&str]) -> Self {
        self.allowed_hosts = hosts.iter().map(|h| h.to_string()).collect();
        if !self.capabilities.contains(&"http") {
            self.capabilities.push("http");
        }
        self
    }

    /// Request secrets (adds the `secrets` capability).
    pub fn secrets(mut self, names: &[&str]) -> Self {
        self.secrets = names.iter().map(|h| h.to_string()).collect();
        if !self.capabilities.contains(&"secrets") {
            self.capabilities.push("secrets");
        }
        self
    }

    /// Override the worlds.
    pub fn worlds(mut self, worlds: &[&'static str]) -> Self {
        self.worlds = worlds.to_vec();
        self
    }

    /// Override the id (to test a mismatch with `describe`).
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_string();
        self
    }

    /// Memory cap.
    pub fn memory_bytes(mut self, n: usize) -> Self {
        self.memory_bytes = n;
        self
    }

    /// Deadline per call.
    pub fn deadline_ms(mut self, n: u64) -> Self {
        self.deadline_ms = n;
        self
    }

    /// Output cap.
    pub fn output_bytes(mut self, n: usize) -> Self {
        self.output_bytes = n;
        self
    }

    /// The TOML text.
    pub fn toml(&self) -> String {
        let list = |v: &[String]| {
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let strs = |v: &[&str]| {
            v.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "manifest_version = 1\nid = {:?}\nversion = \"0.1.0\"\nworlds = [{}]\ncapabilities = [{}]\nallowed_hosts = [{}]\nsecrets = [{}]\n\n[limits]\nmemory_bytes = {}\ndeadline_ms = {}\noutput_bytes = {}\n",
            self.id,
            strs(&self.worlds),
            strs(&self.capabilities),
            list(&self.allowed_hosts),
            list(&self.secrets),
            self.memory_bytes,
            self.deadline_ms,
            self.output_bytes
        )
    }

    /// Parsed.
    pub fn build(&self) -> silta_runtime::manifest::Manifest {
        silta_runtime::manifest::Manifest::parse(
            &self.toml(),
            std::path::Path::new("test-manifest.toml"),
        )
        .expect("test manifest is valid")
    }
}
