//! `files`: path, mode and ownership of files written into the image.

use super::{Problems, Seen};
use crate::error::shown;
use crate::model::FileSpec;
use crate::paths::normalize_check;
use crate::run_as::check_id;

pub(super) fn check(files: &[FileSpec], problems: &mut Problems) {
    let mut seen = Seen::new();
    for (i, file) in files.iter().enumerate() {
        let at = format!("files[{i}]");
        let path_ok = problems.check(format!("{at}.path"), check_path(&file.path));
        if path_ok && let Some(first) = seen.first(file.path.as_str(), i) {
            problems.push(format!("{at}.path"), format!("{} is written twice (see files[{first}])", shown(&file.path)));
        }
        problems.check(format!("{at}.mode"), parse_mode(&file.mode).map(|_| ()));
        problems.check(format!("{at}.uid"), check_id(file.uid));
        problems.check(format!("{at}.gid"), check_id(file.gid));
    }
}

fn check_path(path: &str) -> Result<(), String> {
    normalize_check(path)?;
    if path == "/" {
        return Err("must name a file, not the root `/`".to_owned());
    }
    Ok(())
}

/// Parses an octal mode: 3 or 4 octal digits, optionally with a leading `0`
/// (`644`, `0644`, `4755`, `04755`), at most `0o7777`.
pub(crate) fn parse_mode(mode: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "{} is not an octal mode: use 3 or 4 octal digits, optionally with a leading 0, e.g. \
             \"0644\", \"0755\" or \"4755\"",
            shown(mode)
        )
    };
    if !mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(bad());
    }
    let digits = match mode.len() {
        3 | 4 => mode,
        5 if mode.starts_with('0') => &mode[1..],
        _ => return Err(bad()),
    };
    match u32::from_str_radix(digits, 8) {
        Ok(bits) if bits <= 0o7777 => Ok(bits),
        _ => Err(bad()),
    }
}

impl FileSpec {
    /// The permission bits of `mode` (`"0755"` -> `0o755`), if it is valid.
    pub fn mode_bits(&self) -> Option<u32> {
        parse_mode(&self.mode).ok()
    }
}
