//! PostgreSQL's numbered placeholders for the store's portable `?` ones (the native executor
//! and the components' `spin:postgres` adapter both send `$1…`), and which statements cannot
//! return rows.

/// `sql` with each `?` outside quotes numbered `$1`, `$2`, …. (Runs for every statement a
/// component sends: the text between placeholders is copied in slices, numbers written
/// without allocating.)
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut n, mut quote, mut copied) = (0u32, None, 0);
    for (i, b) in sql.bytes().enumerate() {
        match (b, quote) {
            (b'\'' | b'"', None) => quote = Some(b),
            (q, Some(open)) if q == open => quote = None,
            (b'?', None) => {
                // `?` is ASCII: `i` and `i + 1` are character boundaries.
                out.push_str(&sql[copied..i]);
                copied = i + 1;
                n += 1;
                push_placeholder(&mut out, n);
            }
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    out
}

fn push_placeholder(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let (mut rest, mut start) = (n, digits.len());
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push('$');
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// Whether `sql` cannot return rows: a transaction's `BEGIN`/`COMMIT`/`ROLLBACK`, or an
/// `INSERT`/`UPDATE`/`DELETE` without `RETURNING` (anywhere, even quoted: when in doubt, it
/// may). The components send these with `spin:postgres`'s `execute`, which costs less than a
/// `query` and its row stream; every other statement is a `query`.
pub fn returns_no_rows(sql: &str) -> bool {
    let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    let command =
        ["INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK"].iter().any(|k| first.eq_ignore_ascii_case(k));
    command && !sql.as_bytes().windows(9).any(|w| w.eq_ignore_ascii_case(b"RETURNING"))
}

#[cfg(test)]
mod tests {
    use super::{numbered, returns_no_rows};

    #[test]
    fn placeholders_are_numbered_past_nine_and_around_any_text() {
        let sql = ["?"; 12].join(", ");
        let want = (1..=12).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        assert_eq!(numbered(&sql), want);
        assert_eq!(numbered("SELECT 'é?' || ? AS « x », ?"), "SELECT 'é?' || $1 AS « x », $2");
        assert_eq!(numbered("no placeholders"), "no placeholders");
        assert_eq!(numbered("?"), "$1");
        assert_eq!(numbered(""), "");
    }

    #[test]
    fn only_statements_that_cannot_return_rows_are_rowless() {
        for none in [
            "BEGIN",
            "commit",
            "ROLLBACK",
            "INSERT INTO t (a) VALUES (?) ON CONFLICT (a) DO NOTHING",
            "  update t SET a = ? WHERE b = ?",
            "DELETE FROM events WHERE received_at < ?",
        ] {
            assert!(returns_no_rows(none), "{none}");
        }
        for rows in [
            "SELECT 1",
            "INSERT INTO t (a) VALUES (?) RETURNING a",
            "update t set a = 1 returning *",
            "DELETE FROM t WHERE a = 'x' Returning a",
            "WITH x AS (DELETE FROM t RETURNING a) SELECT * FROM x",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "VALUES (1)",
            "SHOW server_version",
            "INSERT INTO t (a) VALUES ('no RETURNING here')",
            "",
        ] {
            assert!(!returns_no_rows(rows), "{rows}");
        }
    }
}
