//! PostgreSQL's numbered placeholders for the store's portable `?` ones (the native executor
//! and the components' `spin:postgres` adapter both send `$1…`), and which statements cannot
//! return rows.

/// `sql` with each `?` outside quotes numbered `$1`, `$2`, ….
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut n, mut quote) = (0, None);
    for c in sql.chars() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('?', None) => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
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
    use super::returns_no_rows;

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
