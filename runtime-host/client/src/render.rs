//! How answers are printed: `table` for people (aligned columns; one object as `key: value`
//! lines), `json` (the API's document, unchanged) and `yaml` for machines.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// Rows under headers, columns aligned with two spaces; no cell is cut.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate().take(widths.len()) {
                if i + 1 == widths.len().min(cells.len()) {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
                }
            }
            s.trim_end().to_owned()
        };
        let mut out = line(&self.headers);
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out.push('\n');
        out
    }
}

/// The document as YAML.
pub fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|_| format!("{value}\n"))
}

/// The document as JSON, pretty, one trailing newline.
pub fn json(value: &Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()))
}

/// A cell: strings bare, null as `-`, arrays joined with `,`, anything else as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) if s.is_empty() => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// One object for people: its scalar fields as `key: value` lines, in order, then each nested
/// field as an indented YAML block (`links` left out: they are for programs).
pub fn details(value: &Value) -> String {
    let Some(map) = value.as_object() else { return yaml(value) };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    let mut nested = String::new();
    for (k, v) in map {
        if k == "links" {
            continue;
        }
        match v {
            Value::Object(o) if !o.is_empty() => {
                nested.push_str(&format!("{k}:\n"));
                for l in yaml(v).lines() {
                    nested.push_str(&format!("  {l}\n"));
                }
            }
            Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
                nested.push_str(&format!("{k}:\n"));
                for l in yaml(v).lines() {
                    nested.push_str(&format!("  {l}\n"));
                }
            }
            _ => out.push_str(&format!("{k:width$}  {}\n", cell(v))),
        }
    }
    out + &nested
}

/// `2026-12-04T05:06:07.123Z` → milliseconds since the epoch (UTC `Z` times only: the API's).
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = text.get(19..)?.strip_suffix('Z')?;
    let ms = match rest.strip_prefix('.') {
        Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
            format!("{f:0<3}").get(..3)?.parse::<i64>().ok()?
        }
        None if rest.is_empty() => 0,
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// `420ms`, `1.2s`, `3m04s`, `2h05m` between two API timestamps; `-` when either is missing.
pub fn duration(start: &Value, end: &Value) -> String {
    let (Some(a), Some(b)) = (start.as_str().and_then(parse_time), end.as_str().and_then(parse_time)) else {
        return "-".into();
    };
    let ms = (b - a).max(0);
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A digest shortened for a table: `sha256:0123456789ab`.
pub fn short_digest(value: &Value) -> String {
    match value.as_str() {
        Some(d) if d.starts_with("sha256:") && d.len() > 19 => d[..19].to_owned(),
        _ => cell(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_cells_read_well() {
        let mut t = Table::new(&["ID", "NAME", "TAGS"]);
        t.row(vec!["cus_1".into(), "a".into(), cell(&json!(["1", "2"]))]);
        t.row(vec!["cus_22222".into(), "longer name".into(), cell(&json!([]))]);
        assert_eq!(
            t.render(),
            "ID         NAME         TAGS\ncus_1      a            1,2\ncus_22222  longer name  -\n"
        );
        assert_eq!((cell(&json!(null)), cell(&json!(3)), cell(&json!(""))), ("-".into(), "3".into(), "-".into()));
    }

    #[test]
    fn one_object_is_keys_then_nested_yaml() {
        let v = json!({"id": "cus_1", "revision": 2, "spec": {"name": "a"}, "links": {"self": "/x"}});
        assert_eq!(details(&v), "id        cus_1\nrevision  2\nspec:\n  name: a\n");
    }

    #[test]
    fn durations_come_from_the_api_s_timestamps() {
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_time("2026-12-04T00:00:00Z"), Some(1_796_342_400_000));
        assert_eq!(parse_time("2026-12-04 00:00:00"), None);
        let d = |a: &str, b: &str| duration(&json!(a), &json!(b));
        assert_eq!(d("2026-12-04T00:00:00.000Z", "2026-12-04T00:00:01.250Z"), "1.2s");
        assert_eq!(d("2026-12-04T00:00:00Z", "2026-12-04T00:03:04Z"), "3m04s");
        assert_eq!(d("2026-12-04T00:00:00.000Z", "2026-12-04T00:00:00.042Z"), "42ms");
        assert_eq!(d("2026-12-04T00:00:00Z", "2026-12-04T02:05:00Z"), "2h05m");
        assert_eq!(duration(&json!("2026-12-04T00:00:00Z"), &json!(null)), "-");
        assert_eq!(short_digest(&json!(format!("sha256:{}", "a".repeat(64)))), "sha256:aaaaaaaaaaaa");
    }
}
