//! `/etc/passwd` and `/etc/group`: the files as merged from every layer below, plus the
//! spec's new users and groups. A clash with an existing name or id is an error naming both.

use tailor_spec::{Accounts, Problem, RunAs};

/// One `passwd` or `group` line split on `:` (comments and blank lines are kept as raw text).
fn records(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).map(|l| l.split(':').collect())
}

fn find<'a>(text: &'a str, name_or_id: &str, id_col: usize) -> Option<Vec<&'a str>> {
    records(text).find(|r| r.first() == Some(&name_or_id) || r.get(id_col) == Some(&name_or_id))
}

fn append_line(text: &str, line: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(line);
    out.push('\n');
    out
}

/// The merged files after adding the spec's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedAccounts {
    pub passwd: String,
    pub group: String,
}

/// Add `spec`'s groups and users to the `passwd`/`group` texts found below.
pub fn merge(passwd: &str, group: &str, spec: &Accounts) -> Result<MergedAccounts, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut group_out = group.to_string();
    for (i, g) in spec.groups.iter().enumerate() {
        let field = format!("accounts.groups[{i}]");
        if let Some(r) = find(group, &g.name, usize::MAX) {
            problems.push(Problem::new(
                &field,
                format!("group `{}` already exists below (gid {})", g.name, r.get(2).unwrap_or(&"?")),
            ));
        } else if let Some(r) = records(group).find(|r| r.get(2) == Some(&g.gid.to_string().as_str())) {
            problems.push(Problem::new(&field, format!("gid {} is already used by group `{}` below", g.gid, r[0])));
        }
        group_out = append_line(&group_out, &format!("{}:x:{}:{}", g.name, g.gid, g.members.join(",")));
    }
    let mut passwd_out = passwd.to_string();
    for (i, u) in spec.users.iter().enumerate() {
        let field = format!("accounts.users[{i}]");
        if let Some(r) = find(passwd, &u.name, usize::MAX) {
            problems.push(Problem::new(
                &field,
                format!("user `{}` already exists below (uid {})", u.name, r.get(2).unwrap_or(&"?")),
            ));
        } else if let Some(r) = records(passwd).find(|r| r.get(2) == Some(&u.uid.to_string().as_str())) {
            problems.push(Problem::new(&field, format!("uid {} is already used by user `{}` below", u.uid, r[0])));
        }
        let line = format!(
            "{}:x:{}:{}:{}:{}:{}",
            u.name,
            u.uid,
            u.gid,
            u.gecos.as_deref().unwrap_or(""),
            home_of(u),
            u.shell.as_deref().unwrap_or("/usr/sbin/nologin")
        );
        passwd_out = append_line(&passwd_out, &line);
    }
    if problems.is_empty() { Ok(MergedAccounts { passwd: passwd_out, group: group_out }) } else { Err(problems) }
}

/// A user's home directory: as given, or `/home/<name>`.
pub fn home_of(u: &tailor_spec::UserSpec) -> String {
    u.home.clone().unwrap_or_else(|| format!("/home/{}", u.name))
}

/// The config `User` value for `run_as`: a name is resolved to its numeric `uid:gid` (so that
/// Kubernetes' runAsNonRoot can check it); numeric values are kept as written.
pub fn resolve_run_as(run_as: &RunAs, passwd: &str) -> Result<String, Problem> {
    match run_as {
        RunAs::Id { uid, gid: Some(gid) } => Ok(format!("{uid}:{gid}")),
        RunAs::Id { uid, gid: None } => Ok(uid.to_string()),
        RunAs::Name(name) => match find(passwd, name, usize::MAX) {
            Some(r) if r.len() >= 4 => Ok(format!("{}:{}", r[2], r[3])),
            _ => Err(Problem::new(
                "accounts.run_as",
                format!("user `{name}` is neither in the base's /etc/passwd nor in accounts.users"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailor_spec::{GroupSpec, UserSpec};

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\nnogroup:x:65534:";

    fn user(name: &str, uid: u64) -> UserSpec {
        UserSpec { name: name.into(), uid, gid: 1000, home: None, shell: None, gecos: None }
    }

    #[test]
    fn appends_new_accounts_after_the_existing_ones() {
        let spec = Accounts {
            groups: vec![GroupSpec { name: "app".into(), gid: 1000, members: vec!["app".into()] }],
            users: vec![user("app", 1000)],
            run_as: Some("app".into()),
        };
        let m = merge(PASSWD, GROUP, &spec).unwrap();
        assert_eq!(m.passwd, format!("{PASSWD}app:x:1000:1000::/home/app:/usr/sbin/nologin\n"));
        assert_eq!(m.group, "root:x:0:\nnogroup:x:65534:\napp:x:1000:app\n");
        assert_eq!(resolve_run_as(&RunAs::Name("app".into()), &m.passwd).unwrap(), "1000:1000");
        assert_eq!(resolve_run_as(&RunAs::Name("nobody".into()), &m.passwd).unwrap(), "65534:65534");
        assert_eq!(resolve_run_as(&RunAs::Id { uid: 5, gid: Some(6) }, "").unwrap(), "5:6");
        assert!(resolve_run_as(&RunAs::Name("ghost".into()), &m.passwd).unwrap_err().to_string().contains("ghost"));
    }

    #[test]
    fn clashes_name_both_sides() {
        let spec = Accounts {
            groups: vec![
                GroupSpec { name: "nogroup".into(), gid: 7, members: vec![] },
                GroupSpec { name: "x".into(), gid: 0, members: vec![] },
            ],
            users: vec![user("root", 1000), user("other", 65534)],
            run_as: None,
        };
        let problems: Vec<String> = merge(PASSWD, GROUP, &spec).unwrap_err().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            vec![
                "accounts.groups[0]: group `nogroup` already exists below (gid 65534)",
                "accounts.groups[1]: gid 0 is already used by group `root` below",
                "accounts.users[0]: user `root` already exists below (uid 0)",
                "accounts.users[1]: uid 65534 is already used by user `nobody` below",
            ]
        );
    }
}
