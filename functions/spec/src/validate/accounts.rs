//! `accounts`: groups, users and run_as.

use super::{Problems, Seen, no_nul};
use crate::error::shown;
use crate::model::{Accounts, GroupSpec, UserSpec};
use crate::paths::normalize_check;
use crate::run_as::{RunAs, check_account_name, check_id};

pub(super) fn check(accounts: &Accounts, problems: &mut Problems) {
    check_groups(&accounts.groups, problems);
    check_users(&accounts.users, problems);
    if let Some(run_as) = &accounts.run_as {
        problems.check(
            "accounts.run_as",
            RunAs::parse(run_as).map(|_| ()).map_err(|err| format!("{err}; expected a user name, `uid` or `uid:gid`")),
        );
    }
}

fn check_groups(groups: &[GroupSpec], problems: &mut Problems) {
    let mut names = Seen::new();
    let mut gids = Seen::new();
    for (i, group) in groups.iter().enumerate() {
        let at = format!("accounts.groups[{i}]");
        if problems.check(format!("{at}.name"), check_account_name(&group.name))
            && let Some(first) = names.first(group.name.as_str(), i)
        {
            problems.push(
                format!("{at}.name"),
                format!("group {} is added twice (see accounts.groups[{first}])", shown(&group.name)),
            );
        }
        if problems.check(format!("{at}.gid"), check_id(group.gid))
            && let Some(first) = gids.first(group.gid, i)
        {
            problems
                .push(format!("{at}.gid"), format!("gid {} is used twice (see accounts.groups[{first}])", group.gid));
        }
        for (j, member) in group.members.iter().enumerate() {
            problems.check(format!("{at}.members[{j}]"), check_account_name(member));
        }
    }
}

fn check_users(users: &[UserSpec], problems: &mut Problems) {
    let mut names = Seen::new();
    let mut uids = Seen::new();
    for (i, user) in users.iter().enumerate() {
        let at = format!("accounts.users[{i}]");
        if problems.check(format!("{at}.name"), check_account_name(&user.name))
            && let Some(first) = names.first(user.name.as_str(), i)
        {
            problems.push(
                format!("{at}.name"),
                format!("user {} is added twice (see accounts.users[{first}])", shown(&user.name)),
            );
        }
        if problems.check(format!("{at}.uid"), check_id(user.uid))
            && let Some(first) = uids.first(user.uid, i)
        {
            problems.push(format!("{at}.uid"), format!("uid {} is used twice (see accounts.users[{first}])", user.uid));
        }
        problems.check(format!("{at}.gid"), check_id(user.gid));
        for (field, path) in [("home", &user.home), ("shell", &user.shell)] {
            if let Some(path) = path {
                problems.check(format!("{at}.{field}"), normalize_check(path));
            }
        }
        if let Some(gecos) = &user.gecos {
            problems.check(format!("{at}.gecos"), check_gecos(gecos));
        }
    }
}

fn check_gecos(gecos: &str) -> Result<(), String> {
    no_nul(gecos)?;
    if gecos.contains(':') {
        return Err("must not contain `:` (it separates passwd fields)".to_owned());
    }
    if gecos.contains(['\n', '\r']) {
        return Err("must not contain line breaks".to_owned());
    }
    Ok(())
}
