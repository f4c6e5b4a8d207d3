//! The user's settings (`settings.toml` in the data dir): what the desktop app does beyond the
//! per-key policies. Holds no secrets; a file that does not parse falls back to the defaults
//! with a log line and is left as it is.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fsutil::{self, FsError, Overwrite};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// Lock the agent after this many minutes without a signature (None: never).
    pub idle_lock_minutes: Option<u32>,
    /// Show a notification for each signature.
    pub notify_on_sign: bool,
    /// Start (hidden, in the tray) when the user logs in.
    pub start_at_login: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { idle_lock_minutes: None, notify_on_sign: true, start_at_login: false }
    }
}

const FILE: &str = "settings.toml";

impl Settings {
    pub fn load(root: &Path) -> Self {
        let path = root.join(FILE);
        let Ok(bytes) = fsutil::read_limited(&path, 1 << 20) else { return Self::default() };
        match toml::from_str(&String::from_utf8_lossy(&bytes)) {
            Ok(settings) => settings,
            Err(e) => {
                eprintln!("latchkey: {} is not valid ({e}); using the default settings", path.display());
                Self::default()
            }
        }
    }

    pub fn save(&self, root: &Path) -> Result<(), FsError> {
        fsutil::create_private_dir(root)?;
        let text = toml::to_string_pretty(self).unwrap_or_default();
        fsutil::write_file(&root.join(FILE), text.as_bytes(), 0o600, Overwrite::Replace)
    }

    pub fn idle_lock(&self) -> Option<Duration> {
        self.idle_lock_minutes.filter(|m| *m > 0).map(|m| Duration::from_secs(u64::from(m) * 60))
    }
}
