//! The passphrase secret type.

use std::fmt;

use zeroize::Zeroizing;

/// A passphrase typed by the user or read from the OS keyring.
///
/// The bytes are wiped when the value is dropped, and `Debug` never prints them, so a passphrase
/// cannot leak into a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The secret itself. Callers hand it straight to a KDF or the keyring, never to a formatter.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` for an empty passphrase: ssh-keygen's convention that "" means "no passphrase".
    pub fn non_empty(self) -> Option<Self> {
        if self.is_empty() { None } else { Some(self) }
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Passphrases arrive from the UI inside requests. There is deliberately no `Serialize`: a
/// passphrase cannot be sent back out in a response or an event.
impl<'de> serde::Deserialize<'de> for Passphrase {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Passphrase::new)
    }
}

impl From<Zeroizing<String>> for Passphrase {
    fn from(text: Zeroizing<String>) -> Self {
        Self(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_nothing_secret() {
        let secret = Passphrase::new("hunter2-correct-horse");
        let shown = format!("{secret:?} {:?}", Some(secret.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn empty_means_none() {
        assert!(Passphrase::new("").non_empty().is_none());
        assert_eq!(Passphrase::new("x").non_empty().map(|p| p.expose().to_owned()), Some("x".into()));
    }
}
