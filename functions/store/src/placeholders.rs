//! PostgreSQL's numbered placeholders for the store's portable `?` ones (the native executor
//! and the components' `spin:postgres` adapter both send `$1…`).

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
