//! YAML with source positions: a document parsed (saphyr's event parser) into a tree whose
//! scalars know where their text is, and edits of single scalars that leave every other byte —
//! comments, key order, quoting, blank lines — exactly as it was.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deeper nesting than this is refused.
const MAX_DEPTH: usize = 100;

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    /// `|` or `>`: read, but not edited.
    Block,
}

/// A scalar and where its text is (byte offsets of the whole token, quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: Style,
    pub start: usize,
    pub end: usize,
    /// 1-based line of its start.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
    Alias,
}

impl Node {
    /// The value of key `name` in a mapping.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.as_str() == Some(name)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar's value.
    pub fn as_str(&self) -> Option<&str> {
        self.scalar().map(|s| s.value.as_str())
    }

    pub fn scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses the first document of `text`; `Ok(None)` for an empty one. Errors say where.
pub fn parse(text: &str) -> Result<Option<Node>, String> {
    // Marks count characters; edits need bytes.
    let mut bytes_at: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    bytes_at.push(text.len());
    let byte = |chars: usize| bytes_at.get(chars).copied().unwrap_or(text.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| e.to_string())?;
        let node = match event {
            Event::Scalar(value, style, _, _) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    _ => Style::Block,
                };
                let start = byte(span.start.index());
                // The token's end from the text itself: the parser's end of a quoted scalar can
                // run past it (over a trailing comment).
                let (style, end) = match token_end(text, start, style, &value) {
                    Some(end) => (style, end),
                    None => (Style::Block, byte(span.end.index())),
                };
                Some(Node::Scalar(Scalar { value: value.into_owned(), style, start, end, line: span.start.line() }))
            }
            Event::Alias(_) => Some(Node::Alias),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} levels"));
                }
                let map = matches!(event, Event::MappingStart(..));
                stack.push(Frame { map, items: Vec::new() });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let frame = stack.pop().ok_or("unbalanced collection")?;
                Some(if frame.map {
                    let mut entries = Vec::new();
                    let mut items = frame.items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        entries.push((k, v));
                    }
                    Node::Map(entries)
                } else {
                    Node::Seq(frame.items)
                })
            }
            Event::DocumentEnd if root.is_some() => break,
            _ => None,
        };
        if let Some(node) = node {
            match stack.last_mut() {
                Some(frame) => frame.items.push(node),
                None if root.is_none() => root = Some(node),
                None => {}
            }
        }
    }
    Ok(root)
}

/// Where the scalar token starting at `start` ends: after its closing quote, or after its
/// value for a plain one. None when it cannot be told (a plain scalar over several lines): such
/// a scalar is treated as a block one (read, never edited).
fn token_end(text: &str, start: usize, style: Style, value: &str) -> Option<usize> {
    let rest = text.get(start..)?;
    let mut chars = rest.char_indices().skip(1).peekable();
    match style {
        Style::Double => {
            if !rest.starts_with('"') {
                return None;
            }
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => return Some(start + i + 1),
                    _ => {}
                }
            }
            None
        }
        Style::Single => {
            if !rest.starts_with('\'') {
                return None;
            }
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                        chars.next();
                    } else {
                        return Some(start + i + 1);
                    }
                }
            }
            None
        }
        Style::Plain => rest.starts_with(value).then(|| start + value.len()),
        Style::Block => None,
    }
}

struct Frame {
    map: bool,
    items: Vec<Node>,
}

/// A replacement of `start..end` of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The edit that makes `scalar` hold `value`, written in its own style (a plain scalar whose new
/// value would need quotes is double-quoted). `None` for a block scalar.
pub fn replace(scalar: &Scalar, value: &str) -> Option<Edit> {
    let text = match scalar.style {
        Style::Block => return None,
        Style::Plain if plain_safe(value) => value.to_owned(),
        Style::Single => format!("'{}'", value.replace('\'', "''")),
        Style::Plain | Style::Double => {
            let mut out = String::from("\"");
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    };
    Some(Edit { start: scalar.start, end: scalar.end, text })
}

/// Whether `value` reads back as the same string when written plain (image references do:
/// letters, digits and `./:@_-`, starting with a letter or digit, not a number or boolean).
fn plain_safe(value: &str) -> bool {
    let first_ok = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "./:@_+-".contains(c))
        && !value.contains(": ")
        && value.parse::<f64>().is_err()
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

/// Applies non-overlapping `edits` to `text`; everything else is kept byte for byte.
pub fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in edits {
        if e.start < at || e.end > text.len() {
            continue;
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const VALUES: &str = "# The web chart.
image:
  registry: docker.io   # where
  repository: \"dhi/nginx\"
  tag: '1.25'
  digest: \"\"        # empty: use the tag
  empty: ''   # also empty
  quoted: 'it''s'  # a doubled quote

sidecars:
  - name: busy
    image: busybox:1.36 # a plain one
  - {name: flow, image: \"alpine:3.20\", pull: 'IfNotPresent'}
notes: |
  image: not/touched:1
ünïcode: über/nginx:1
";

    fn scalar<'a>(n: &'a Node, path: &[&str]) -> &'a Scalar {
        let mut at = n;
        for p in path {
            at = match p.parse::<usize>() {
                Ok(i) => match at {
                    Node::Seq(items) => &items[i],
                    _ => panic!("not a sequence"),
                },
                Err(_) => at.get(p).unwrap(),
            };
        }
        at.scalar().unwrap()
    }

    #[test]
    fn scalars_know_their_text() {
        let n = parse(VALUES).unwrap().unwrap();
        for (path, raw, line) in [
            (vec!["image", "registry"], "docker.io", 3),
            (vec!["image", "repository"], "\"dhi/nginx\"", 4),
            (vec!["image", "tag"], "'1.25'", 5),
            (vec!["image", "digest"], "\"\"", 6),
            (vec!["image", "empty"], "''", 7),
            (vec!["image", "quoted"], "'it''s'", 8),
            (vec!["sidecars", "0", "image"], "busybox:1.36", 12),
            (vec!["sidecars", "1", "image"], "\"alpine:3.20\"", 13),
            (vec!["ünïcode"], "über/nginx:1", 16),
        ] {
            let s = scalar(&n, &path);
            assert_eq!((&VALUES[s.start..s.end], s.line), (raw, line), "{path:?}");
        }
        assert_eq!(scalar(&n, &["notes"]).style, Style::Block);
    }

    #[test]
    fn edits_keep_everything_else() {
        let n = parse(VALUES).unwrap().unwrap();
        let edits = vec![
            replace(scalar(&n, &["image", "registry"]), "registry.acme.example:5000").unwrap(),
            replace(scalar(&n, &["image", "repository"]), "acme/dhi-nginx").unwrap(),
            replace(scalar(&n, &["image", "tag"]), "1.25@sha256:ab").unwrap(),
            replace(scalar(&n, &["sidecars", "0", "image"]), "r/acme/busybox:1.36@sha256:cd").unwrap(),
            replace(scalar(&n, &["sidecars", "1", "image"]), "r/acme/alpine:3.20").unwrap(),
        ];
        let out = apply(VALUES, edits);
        assert_eq!(
            out,
            VALUES
                .replace("docker.io   # where", "registry.acme.example:5000   # where")
                .replace("\"dhi/nginx\"", "\"acme/dhi-nginx\"")
                .replace("'1.25'", "'1.25@sha256:ab'")
                .replace("busybox:1.36 # a plain one", "r/acme/busybox:1.36@sha256:cd # a plain one")
                .replace("\"alpine:3.20\"", "\"r/acme/alpine:3.20\"")
        );
        let again = parse(&out).unwrap().unwrap();
        assert_eq!(scalar(&again, &["image", "tag"]).value, "1.25@sha256:ab");
        assert!(replace(scalar(&n, &["notes"]), "x").is_none());
    }

    #[test]
    fn plain_values_that_would_change_meaning_are_quoted() {
        let n = parse("a: x\n").unwrap().unwrap();
        let s = scalar(&n, &["a"]);
        for (value, written) in [("1.25", "\"1.25\""), ("true", "\"true\""), ("a: b", "\"a: b\""), ("-x", "\"-x\"")] {
            assert_eq!(replace(s, value).unwrap().text, written);
            let out = apply("a: x\n", vec![replace(s, value).unwrap()]);
            assert_eq!(scalar(&parse(&out).unwrap().unwrap(), &["a"]).value, value);
        }
    }

    #[test]
    fn bad_yaml_is_an_error() {
        assert!(parse("a: [1, 2\n").is_err());
        assert!(parse("a: b\n c: d\n").is_err());
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).unwrap_err().contains("deeper"));
    }
}
