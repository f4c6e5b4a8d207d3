//! POSIX getopt, so `latchkey keygen` takes ssh-keygen's arguments exactly as ssh-keygen does:
//! bundled flags (`-lvf key`), attached values (`-N''`, `-b4096`), `--` to end options.

use std::ffi::OsString;

#[derive(Debug, PartialEq, Eq)]
pub enum Arg {
    Flag(char),
    Value(char, OsString),
    Operand(OsString),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GetoptError {
    #[error("unknown option -{0}")]
    Unknown(char),
    #[error("option -{0} needs a value")]
    MissingValue(char),
}

/// Parse `args` against `spec` (getopt's optstring: letters, `:` after those that take a value).
pub fn getopt(args: &[OsString], spec: &str) -> Result<Vec<Arg>, GetoptError> {
    let takes_value = |c: char| spec.find(c).map(|i| spec[i + c.len_utf8()..].starts_with(':'));
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            out.extend(iter.by_ref().map(|a| Arg::Operand(a.clone())));
            break;
        }
        if !text.starts_with('-') || text == "-" {
            out.push(Arg::Operand(arg.clone()));
            continue;
        }
        let chars = text[1..].char_indices();
        for (i, c) in chars {
            match takes_value(c) {
                None => return Err(GetoptError::Unknown(c)),
                Some(false) => out.push(Arg::Flag(c)),
                Some(true) => {
                    let rest = &text[1 + i + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        OsString::from(rest)
                    } else {
                        iter.next().cloned().ok_or(GetoptError::MissingValue(c))?
                    };
                    out.push(Arg::Value(c, value));
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn bundles_attached_values_and_empty_values() {
        let parsed = getopt(&args(&["-lvf", "key", "-N", "", "-b4096", "--", "-x"]), "lvf:N:b:").unwrap();
        assert_eq!(
            parsed,
            vec![
                Arg::Flag('l'),
                Arg::Flag('v'),
                Arg::Value('f', "key".into()),
                Arg::Value('N', "".into()),
                Arg::Value('b', "4096".into()),
                Arg::Operand("-x".into()),
            ]
        );
    }

    #[test]
    fn unknown_and_missing() {
        assert_eq!(getopt(&args(&["-Z"]), "lf:"), Err(GetoptError::Unknown('Z')));
        assert_eq!(getopt(&args(&["-f"]), "lf:"), Err(GetoptError::MissingValue('f')));
    }
}
