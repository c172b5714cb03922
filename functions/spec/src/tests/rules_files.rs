use super::{assert_single, problems, valid};
use crate::FileSpec;

fn file(path: &str) -> FileSpec {
    FileSpec { path: path.into(), content: "x".into(), uid: 0, gid: 0, mode: "0644".into() }
}

#[test]
fn file_path_rules() {
    let mut spec = valid();
    for (path, phrase) in [
        ("etc/app.conf", "absolute"),
        ("/etc//app.conf", "empty segments"),
        ("/etc/../app.conf", "`..`"),
        ("/etc/", "end with `/`"),
        ("/", "not the root"),
        ("/a\0", "NUL"),
    ] {
        spec.files = vec![file("/ok"), file(path)];
        assert_single(&spec, "files[1].path", phrase);
    }
}

#[test]
fn file_paths_are_unique() {
    let mut spec = valid();
    spec.files = vec![file("/a"), file("/b"), file("/a")];
    assert_single(&spec, "files[2].path", "written twice (see files[0])");
}

#[test]
fn file_mode_rules() {
    let mut spec = valid();
    for mode in ["", "64", "0888", "14755", "rwxr-xr-x", "0x1ff", " 644"] {
        spec.files = vec![file("/a"), file("/b")];
        spec.files[1].mode = mode.into();
        assert_single(&spec, "files[1].mode", "is not an octal mode");
    }
    for mode in ["644", "0644", "0755", "4755", "04755"] {
        spec.files[1].mode = mode.into();
        assert_eq!(spec.validate(), Ok(()), "{mode}");
    }
}

#[test]
fn file_owner_ids_in_range() {
    let mut spec = valid();
    spec.files[0].uid = 2_147_483_648;
    assert_single(&spec, "files[0].uid", "0..=2147483647");
    spec.files[0].uid = 2_147_483_647;
    spec.files[0].gid = u64::MAX;
    assert_single(&spec, "files[0].gid", "out of range");
}

#[test]
fn file_content_may_be_anything() {
    let mut spec = valid();
    spec.files[0].content = "\0binary\u{7f}\r\n:é".into();
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn every_file_problem_is_reported() {
    let mut spec = valid();
    spec.files =
        vec![FileSpec { path: "rel".into(), content: String::new(), uid: u64::MAX, gid: u64::MAX, mode: "9".into() }];
    let fields: Vec<String> = problems(&spec).into_iter().map(|p| p.field).collect();
    assert_eq!(fields, ["files[0].path", "files[0].mode", "files[0].uid", "files[0].gid"]);
}
