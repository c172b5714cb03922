use super::{assert_single, valid};
use crate::{GroupSpec, UserSpec};

fn group(name: &str, gid: u64) -> GroupSpec {
    GroupSpec { name: name.into(), gid, members: Vec::new() }
}

fn user(name: &str, uid: u64) -> UserSpec {
    UserSpec { name: name.into(), uid, gid: uid, home: None, shell: None, gecos: None }
}

#[test]
fn group_name_rules() {
    let mut spec = valid();
    for (name, phrase) in [
        ("", "name is empty"),
        ("App", "not a valid account name"),
        ("1app", "not a valid account name"),
        ("a:b", "not a valid account name"),
        (&"a".repeat(33), "33 characters long; at most 32"),
    ] {
        spec.accounts.groups = vec![group("app", 1000), group(name, 1001)];
        assert_single(&spec, "accounts.groups[1].name", phrase);
    }
    spec.accounts.groups = vec![group("_app-1", 1000)];
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn group_gid_in_range() {
    let mut spec = valid();
    spec.accounts.groups[0].gid = 2_147_483_648;
    assert_single(&spec, "accounts.groups[0].gid", "0..=2147483647");
}

#[test]
fn group_names_and_gids_are_unique() {
    let mut spec = valid();
    spec.accounts.groups = vec![group("app", 1000), group("web", 1001), group("app", 1002)];
    assert_single(&spec, "accounts.groups[2].name", "group `app` is added twice (see accounts.groups[0])");
    spec.accounts.groups = vec![group("app", 1000), group("web", 1000)];
    assert_single(&spec, "accounts.groups[1].gid", "gid 1000 is used twice");
}

#[test]
fn group_members_are_user_names() {
    let mut spec = valid();
    spec.accounts.groups[0].members = vec!["app".into(), "Bad Name".into()];
    assert_single(&spec, "accounts.groups[0].members[1]", "not a valid account name");
}

#[test]
fn user_name_and_ids() {
    let mut spec = valid();
    spec.accounts.users[0].name = "App".into();
    assert_single(&spec, "accounts.users[0].name", "not a valid account name");
    let mut spec = valid();
    spec.accounts.users[0].uid = 4_294_967_295;
    assert_single(&spec, "accounts.users[0].uid", "0..=2147483647");
    let mut spec = valid();
    spec.accounts.users[0].gid = 2_147_483_648;
    assert_single(&spec, "accounts.users[0].gid", "out of range");
}

#[test]
fn user_names_and_uids_are_unique() {
    let mut spec = valid();
    spec.accounts.users.push(user("app", 1001));
    assert_single(&spec, "accounts.users[1].name", "user `app` is added twice (see accounts.users[0])");
    spec.accounts.users[1] = user("web", 1000);
    assert_single(&spec, "accounts.users[1].uid", "uid 1000 is used twice");
}

#[test]
fn user_home_and_shell_are_absolute_paths() {
    let mut spec = valid();
    spec.accounts.users[0].home = Some("home/app".into());
    assert_single(&spec, "accounts.users[0].home", "absolute");
    let mut spec = valid();
    spec.accounts.users[0].shell = Some("/bin/../sh".into());
    assert_single(&spec, "accounts.users[0].shell", "`..`");
}

#[test]
fn user_gecos_rules() {
    let mut spec = valid();
    for (gecos, phrase) in [("App: user", "`:`"), ("App\nuser", "line breaks"), ("App\0", "NUL")] {
        spec.accounts.users[0].gecos = Some(gecos.into());
        assert_single(&spec, "accounts.users[0].gecos", phrase);
    }
    spec.accounts.users[0].gecos = Some("App User,Room 1,é".into());
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn run_as_rules() {
    let mut spec = valid();
    for (run_as, phrase) in [
        ("Root", "not a valid account name"),
        ("", "name is empty"),
        ("1000:", "gid `` is not a decimal number"),
        ("1000:staff", "not a decimal number"),
        ("2147483648", "out of range"),
        ("0:2147483648", "gid is out of range"),
        ("app\0", "not a valid account name"),
    ] {
        spec.accounts.run_as = Some(run_as.into());
        assert_single(&spec, "accounts.run_as", phrase);
    }
    for run_as in ["nonroot", "0", "65532:65532"] {
        spec.accounts.run_as = Some(run_as.into());
        assert_eq!(spec.validate(), Ok(()), "{run_as}");
    }
}
