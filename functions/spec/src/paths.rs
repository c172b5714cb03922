//! Absolute, normalized paths inside an image.

/// Checks that `path` is absolute and normalized: starts with `/`, has no empty
/// (`//`), `.` or `..` segments, no trailing `/` (except the root `/` itself) and no NUL.
pub fn normalize_check(path: &str) -> Result<(), String> {
    if path.contains('\0') {
        return Err("must not contain NUL characters".to_owned());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("must be an absolute path starting with `/`".to_owned());
    };
    if rest.is_empty() {
        return Ok(());
    }
    if rest.ends_with('/') {
        return Err("must not end with `/`".to_owned());
    }
    for segment in rest.split('/') {
        match segment {
            "" => return Err("must not contain empty segments (`//`)".to_owned()),
            "." | ".." => {
                return Err(format!("must be normalized: no `.` or `..` segments (found `{segment}`)"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `path` equals `base` or lies below it, by whole segments
/// (`/opt/x` is under `/opt` and `/`, `/opt` is not under `/op`).
pub fn is_under(path: &str, base: &str) -> bool {
    if base == "/" {
        return path.starts_with('/');
    }
    match path.strip_prefix(base) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}
