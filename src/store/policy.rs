//! What the agent may do with a store key: ask before each use, only for some hosts, how long it
//! stays unlocked, what to do with forwarded requests. Kept in `keys.toml` with the key.

use serde::{Deserialize, Serialize};

/// Requests arriving through a forwarded agent connection (ssh -A).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ForwardingPolicy {
    /// Ask every time (the default): a forwarded agent can be used by whoever controls the host.
    #[default]
    Ask,
    /// Use without asking (DANGEROUS: root on the remote host can use the key while you are connected).
    Allow,
    /// Never use the key through a forwarded connection.
    Deny,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyPolicy {
    /// Ask before each use.
    #[serde(default)]
    pub confirm: bool,
    /// Only offer and use the key for these hosts (`github.com`, `*.corp.example`, `[h]:2222`,
    /// `SHA256:<host key fingerprint>`, `!excluded`). Empty: every host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Minutes an unlocked key stays in memory (None: until the agent locks or stops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_minutes: Option<u32>,
    #[serde(default)]
    pub forwarding: ForwardingPolicy,
}

impl KeyPolicy {
    /// Check the host patterns: non-empty, no whitespace or commas (one pattern per entry).
    pub fn validate(&self) -> Result<(), String> {
        for pattern in &self.hosts {
            if pattern.trim().is_empty() {
                return Err("a host pattern is empty".into());
            }
            if pattern.contains(|c: char| c.is_whitespace() || c == ',') {
                return Err(format!("host pattern {pattern:?} contains a space or comma: give one pattern per entry"));
            }
        }
        if self.lifetime_minutes == Some(0) {
            return Err("a lifetime of 0 minutes would never let the key be used".into());
        }
        Ok(())
    }
}
