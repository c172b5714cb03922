//! deb822 control stanzas (deb822(5)): the syntax of `Packages`, `Release`, `InRelease` bodies,
//! `/var/lib/dpkg/status` and `DEBIAN/control`.
//!
//! A stanza is a run of `Name: value` lines, each optionally followed by continuation lines that
//! start with a space or tab; stanzas are separated by lines that are empty or hold only
//! whitespace. Field names are case-insensitive. `#` comment lines are an option
//! ([`Stanzas::allow_comments`]): only source control files have them.

use std::borrow::Cow;
use std::fmt;

/// One field. `value` is the raw text after the colon: leading spaces and tabs of the first
/// line and trailing whitespace removed; continuation lines kept as written, each after a
/// `\n` (so a value whose first line is empty, like `Conffiles` or `SHA256`, starts with `\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field name as written.
    pub name: &'a str,
    pub value: Cow<'a, str>,
    /// 1-based line of the `Name:` line.
    pub line: usize,
}

impl Field<'_> {
    /// The first line of the value, trimmed (a `Description`'s synopsis).
    pub fn first_line(&self) -> &str {
        self.value.split('\n').next().unwrap_or("").trim()
    }

    /// The value's lines with their 1-based line numbers, the first line included (it may be
    /// empty); continuation lines keep their leading whitespace. Line numbers assume no comment
    /// lines were dropped inside the field.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.value.split('\n').enumerate().map(move |(i, line)| (self.line + i, line))
    }
}

/// One stanza (paragraph), fields in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stanza<'a> {
    /// 1-based line of the first field.
    pub line: usize,
    pub fields: Vec<Field<'a>>,
}

impl<'a> Stanza<'a> {
    /// The field named `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|field| field.name.eq_ignore_ascii_case(name))
    }

    /// The value of the field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.field(name).map(|field| field.value.as_ref())
    }
}

/// Writes the stanza back in deb822 syntax (`Name: value` lines, no blank line after).
impl fmt::Display for Stanza<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in &self.fields {
            if field.value.starts_with('\n') || field.value.is_empty() {
                writeln!(f, "{}:{}", field.name, field.value)?;
            } else {
                writeln!(f, "{}: {}", field.name, field.value)?;
            }
        }
        Ok(())
    }
}

/// Text that is not deb822, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("line {line}: continuation line {text:?} outside a field")]
    OrphanContinuation { line: usize, text: String },
    #[error("line {line}: expected \"Field: value\", found {text:?}")]
    MissingColon { line: usize, text: String },
    #[error("line {line}: invalid field name {name:?}")]
    InvalidFieldName { line: usize, name: String },
    #[error("line {line}: field {name} appears twice in one stanza")]
    DuplicateField { line: usize, name: String },
}

impl ControlError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            ControlError::OrphanContinuation { line, .. }
            | ControlError::MissingColon { line, .. }
            | ControlError::InvalidFieldName { line, .. }
            | ControlError::DuplicateField { line, .. } => *line,
        }
    }

    /// The same error with its line moved down by `by` (for text embedded in a larger file).
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        match &mut self {
            ControlError::OrphanContinuation { line, .. }
            | ControlError::MissingColon { line, .. }
            | ControlError::InvalidFieldName { line, .. }
            | ControlError::DuplicateField { line, .. } => *line += by,
        }
        self
    }
}

/// At most 80 characters of `text`, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// deb822 field names: printable US-ASCII except `:`, not starting with `#` or `-`.
fn valid_field_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with(['#', '-']) && name.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b':')
}

/// The field being read: its value is `text[start..end]`, or `owned` once a comment line split it.
struct Pending<'a> {
    name: &'a str,
    line: usize,
    start: usize,
    end: usize,
    owned: Option<String>,
    interrupted: bool,
}

/// An iterator over the stanzas of a text, borrowing from it. After an error it ends.
pub struct Stanzas<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    comments: bool,
    done: bool,
}

impl<'a> Stanzas<'a> {
    pub fn new(text: &'a str) -> Self {
        Stanzas { text, pos: 0, line: 0, comments: false, done: false }
    }

    /// Drops lines starting with `#` (source control files); otherwise they are field lines
    /// with an invalid name.
    pub fn allow_comments(mut self) -> Self {
        self.comments = true;
        self
    }

    /// The next line (without `\n`) and its byte offset.
    fn next_line(&mut self) -> Option<(&'a str, usize)> {
        let rest = self.text.get(self.pos..).filter(|rest| !rest.is_empty())?;
        let start = self.pos;
        let line = match rest.find('\n') {
            Some(end) => {
                self.pos += end + 1;
                rest.get(..end).unwrap_or("")
            }
            None => {
                self.pos = self.text.len();
                rest
            }
        };
        self.line += 1;
        Some((line, start))
    }

    fn finish(&self, pending: Pending<'a>, fields: &mut Vec<Field<'a>>) -> Result<(), ControlError> {
        if fields.iter().any(|field| field.name.eq_ignore_ascii_case(pending.name)) {
            return Err(ControlError::DuplicateField { line: pending.line, name: pending.name.to_owned() });
        }
        let value = match pending.owned {
            Some(owned) => Cow::Owned(owned.trim_end().to_owned()),
            None => Cow::Borrowed(self.text.get(pending.start..pending.end).unwrap_or("").trim_end()),
        };
        fields.push(Field { name: pending.name, value, line: pending.line });
        Ok(())
    }

    fn read_stanza(&mut self) -> Result<Option<Stanza<'a>>, ControlError> {
        let mut fields = Vec::new();
        let mut pending: Option<Pending<'a>> = None;
        let mut first_line = 0;
        while let Some((raw, start)) = self.next_line() {
            let line = self.line;
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            if content.trim().is_empty() {
                if pending.is_none() && fields.is_empty() {
                    continue;
                }
                break;
            }
            if self.comments && content.starts_with('#') {
                if let Some(pending) = &mut pending {
                    pending.interrupted = true;
                }
                continue;
            }
            if content.starts_with([' ', '\t']) {
                let Some(pending) = &mut pending else {
                    return Err(ControlError::OrphanContinuation { line, text: excerpt(content) });
                };
                if pending.interrupted || pending.owned.is_some() {
                    let owned = pending.owned.get_or_insert_with(|| {
                        self.text.get(pending.start..pending.end).unwrap_or("").trim_end().to_owned()
                    });
                    owned.push('\n');
                    owned.push_str(content);
                } else {
                    pending.end = start + content.len();
                }
                continue;
            }
            if let Some(done) = pending.take() {
                self.finish(done, &mut fields)?;
            }
            let Some((name, value)) = content.split_once(':') else {
                return Err(ControlError::MissingColon { line, text: excerpt(content) });
            };
            if !valid_field_name(name) {
                return Err(ControlError::InvalidFieldName { line, name: excerpt(name) });
            }
            let value_start = start + name.len() + 1 + (value.len() - value.trim_start_matches([' ', '\t']).len());
            if first_line == 0 {
                first_line = line;
            }
            pending = Some(Pending {
                name,
                line,
                start: value_start,
                end: start + content.len(),
                owned: None,
                interrupted: false,
            });
        }
        if let Some(done) = pending.take() {
            self.finish(done, &mut fields)?;
        }
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(Stanza { line: first_line, fields }))
    }
}

impl<'a> Iterator for Stanzas<'a> {
    type Item = Result<Stanza<'a>, ControlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_stanza() {
            Ok(Some(stanza)) => Some(Ok(stanza)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

impl std::iter::FusedIterator for Stanzas<'_> {}

/// All stanzas of `text` (no comment lines allowed).
pub fn parse_stanzas(text: &str) -> Result<Vec<Stanza<'_>>, ControlError> {
    Stanzas::new(text).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STATUS: &str = "\
Package: adduser
Status: install ok installed
Priority: important
Version: 3.134
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
 /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands.
 .
 Long description.

\t
Package: base-files
Version: 12.4+deb12u10
";

    #[test]
    fn stanzas_fields_and_continuations() {
        let stanzas = parse_stanzas(STATUS).unwrap();
        assert_eq!(stanzas.len(), 2);
        let adduser = &stanzas[0];
        assert_eq!(adduser.line, 1);
        assert_eq!(adduser.get("package"), Some("adduser"));
        assert_eq!(adduser.get("VERSION"), Some("3.134"));
        let conffiles = adduser.field("Conffiles").unwrap();
        assert_eq!(conffiles.line, 5);
        assert_eq!(
            conffiles.value,
            "\n /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18\n /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f"
        );
        let lines: Vec<(usize, &str)> = conffiles.lines().collect();
        assert_eq!(lines[2], (7, " /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f"));
        let description = adduser.field("description").unwrap();
        assert_eq!(description.first_line(), "add and remove users and groups");
        assert!(description.value.ends_with("\n .\n Long description."));
        assert_eq!(stanzas[1].line, 14);
        assert_eq!(stanzas[1].get("Version"), Some("12.4+deb12u10"));
        assert!(matches!(conffiles.value, Cow::Borrowed(_)));
    }

    #[test]
    fn stanza_display_round_trips() {
        let stanzas = parse_stanzas(STATUS).unwrap();
        let text = stanzas[0].to_string();
        assert!(text.starts_with("Package: adduser\nStatus: install ok installed\n"));
        assert!(text.contains("Conffiles:\n /etc/adduser.conf"));
        assert_eq!(parse_stanzas(&text).unwrap()[0], stanzas[0]);
    }

    #[test]
    fn stanzas_tolerate_crlf_missing_final_newline_and_empty_text() {
        let stanzas = parse_stanzas("Package: a\r\nVersion: 1\r\n\r\nPackage: b").unwrap();
        assert_eq!(stanzas.len(), 2);
        assert_eq!(stanzas[0].get("Version"), Some("1"));
        assert_eq!(stanzas[1].get("Package"), Some("b"));
        assert!(parse_stanzas("").unwrap().is_empty());
        assert!(parse_stanzas("\n \n\n").unwrap().is_empty());
        assert_eq!(parse_stanzas("Empty:\nNext: x\n").unwrap()[0].get("Empty"), Some(""));
    }

    #[test]
    fn comments_are_dropped_when_allowed() {
        let text = "# a comment\nSource: curl\nBuild-Depends: debhelper,\n# in the middle\n libssl-dev\n\n";
        let stanzas: Vec<Stanza<'_>> = Stanzas::new(text).allow_comments().collect::<Result<_, _>>().unwrap();
        assert_eq!(stanzas[0].line, 2);
        assert_eq!(stanzas[0].get("Build-Depends"), Some("debhelper,\n libssl-dev"));
        let err = parse_stanzas(text).unwrap_err();
        assert!(err.to_string().starts_with("line 1: expected \"Field: value\", found \"# a comment\""), "{err}");
    }

    #[test]
    fn control_errors_name_the_line() {
        let cases = [
            (" leading continuation\n", 1, "continuation line \" leading continuation\" outside a field"),
            ("Package: a\nno colon here\n", 2, "expected \"Field: value\", found \"no colon here\""),
            ("Package: a\n-Bad: x\n", 2, "invalid field name \"-Bad\""),
            ("Package: a\nBad Name: x\n", 2, "invalid field name \"Bad Name\""),
            ("Package: a\n: x\n", 2, "invalid field name \"\""),
            ("Package: a\nVersion: 1\npackage: b\n", 3, "field package appears twice"),
            ("Package: a\n\n\n continuation\n", 4, "outside a field"),
        ];
        for (text, line, message) in cases {
            let err = parse_stanzas(text).unwrap_err();
            assert_eq!(err.line(), line, "{text:?}");
            assert!(err.to_string().contains(message), "{text:?}: {err}");
            assert!(err.to_string().starts_with(&format!("line {line}: ")), "{err}");
        }
        let mut stanzas = Stanzas::new("Package: a\n\nbroken\n\nPackage: c\n");
        assert!(stanzas.next().unwrap().is_ok());
        assert!(stanzas.next().unwrap().is_err());
        assert!(stanzas.next().is_none());
    }
}
