//! Key names: the handle users type (`latchkey key show work`), also the key's file name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid key name: 1 to 64 characters from `A-Z a-z 0-9 . _ - @`, not starting with `.` or
/// `-`. Because it is also a file name in the store, anything that could escape the directory or
/// look like an option is unrepresentable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyName(String);

pub const MAX_NAME_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid key name: {why}")]
pub struct InvalidName {
    pub name: String,
    pub why: &'static str,
}

impl KeyName {
    pub fn parse(name: &str) -> Result<Self, InvalidName> {
        let why = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_NAME_LEN {
            Some("use at most 64 characters")
        } else if name.starts_with('.') || name.starts_with('-') {
            Some("it may not start with '.' or '-'")
        } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
            Some("use only letters, digits and . _ - @")
        } else if name.ends_with(".pub") {
            Some("it may not end in .pub (that is the public half's file name)")
        } else {
            None
        };
        match why {
            Some(why) => Err(InvalidName { name: name.to_owned(), why }),
            None => Ok(Self(name.to_owned())),
        }
    }

    /// A name derived from a file name (`id_ed25519.ppk` -> `id_ed25519`), made valid.
    pub fn suggest_from_file(file_name: &str) -> Self {
        let stem = file_name.rsplit('/').next().unwrap_or(file_name);
        let stem = stem
            .strip_suffix(".ppk")
            .or_else(|| stem.strip_suffix(".pem"))
            .or_else(|| stem.strip_suffix(".key"))
            .unwrap_or(stem);
        let cleaned: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') { c } else { '-' })
            .collect::<String>()
            .trim_start_matches(['.', '-'])
            .chars()
            .take(MAX_NAME_LEN)
            .collect();
        Self::parse(&cleaned).unwrap_or_else(|_| Self("imported".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyName {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KeyName> for String {
    fn from(value: KeyName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_or_confuse_are_refused() {
        for bad in ["", "../x", "a/b", ".hidden", "-rf", "x.pub", "with space", &"a".repeat(65)] {
            assert!(KeyName::parse(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["work", "id_ed25519", "me@laptop", "github.2026"] {
            assert_eq!(KeyName::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn suggestions_are_valid() {
        assert_eq!(KeyName::suggest_from_file("/tmp/My Key.ppk").as_str(), "My-Key");
        assert_eq!(KeyName::suggest_from_file(".ssh").as_str(), "ssh");
        assert_eq!(KeyName::suggest_from_file("...").as_str(), "imported");
    }
}
