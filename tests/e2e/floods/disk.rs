//! A full disk under the data directory (a small tmpfs mounted there): while it is full,
//! requests that must write are refused with 507 `storage_full` saying what to do, reads still
//! work, builds in progress are not lost; when space returns, the refused requests succeed
//! when sent again, every build completes and SQLite's integrity check is clean.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::{SECRET, assert_numbered, create, deliver, envelope, push_base, push_event, wait_all_idle};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, run};

/// A tmpfs of `megabytes` mounted on `dir` (as root, else through `sudo -n`), unmounted on drop.
struct SmallDisk(PathBuf);

fn privileged(args: &[&str]) -> Command {
    let root = String::from_utf8_lossy(&run(Command::new("id").arg("-u")).stdout).trim() == "0";
    let mut cmd = if root { Command::new(args[0]) } else { Command::new("sudo") };
    if !root {
        cmd.arg("-n").arg(args[0]);
    }
    cmd.args(&args[1..]);
    cmd
}

impl SmallDisk {
    fn mount(dir: &Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let size = format!("size={megabytes}m");
        run(&mut privileged(&["mount", "-t", "tmpfs", "-o", &size, "tmpfs", dir.to_str().unwrap()]));
        SmallDisk(dir.to_owned())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = privileged(&["umount", "-l", self.0.to_str().unwrap()]).output();
    }
}

/// Fills the filesystem of `dir` with `dir/filler` until writing fails with ENOSPC.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut chunk = vec![0x5au8; 1 << 20];
    loop {
        match f.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => {
                if chunk.len() == 1 {
                    break;
                }
                chunk.truncate(chunk.len() / 2);
            }
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let _ = f.sync_all();
    path
}

#[test]
fn a_full_data_directory_refuses_writes_clearly_and_recovers() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_base(&registry, 0);
    let data = work.path().join("data");
    let _disk = SmallDisk::mount(&data, 32);
    let opts = ServiceOptions {
        registry: Some(registry.url()),
        webhooks: vec![("reg".into(), SECRET.into())],
        extra: vec!["--debounce".into(), "0s".into()],
        ..ServiceOptions::default()
    };
    let host = Service::start(&data, &opts);
    let token = host.token("acme", "owner");
    let ids = create(&host, &token, 10);
    wait_all_idle(&host, &token, &ids, Duration::from_secs(120));

    // A fan-out starts, and the disk fills up while it runs.
    let base = push_base(&registry, 1);
    let r = deliver(&host, &envelope(&[push_event("full-1", "acme/base", "1", &base)]));
    assert_eq!(r.status, 202, "{}", r.text());
    let filler = fill(&data);

    // Writes are refused, saying what is wrong and what to do; nothing half-done is kept.
    let spec = json!({"name": "late", "source": "acme/base:1", "tag_suffix": "late", "platforms": ["linux/amd64"]});
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!((r.status, r.code().as_str()), (507, "storage_full"), "{}", r.text());
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("full") && message.contains("operator"), "{message}");
    let base2 = push_base(&registry, 2);
    let delivery = envelope(&[push_event("full-2", "acme/base", "1", &base2)]);
    let r = deliver(&host, &delivery);
    assert_eq!((r.status, r.code().as_str()), (507, "storage_full"), "the registry will deliver again: {}", r.text());
    // Reads still work.
    let r = host.get(&format!("/v1/orgs/acme/customizations/{}", ids[0]), &token);
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_secs(2));

    // Space returns: the same requests succeed, and every build completes.
    std::fs::remove_file(&filler).unwrap();
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let late = r.json()["id"].as_str().unwrap().to_owned();
    let r = deliver(&host, &delivery);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["duplicates"], 0, "the refused delivery was not recorded: {}", r.text());
    let mut all_ids = ids.clone();
    all_ids.push(late);
    let all = wait_all_idle(&host, &token, &all_ids, Duration::from_secs(300));
    for (id, builds) in all_ids.iter().zip(&all) {
        assert_numbered(id, builds);
        for b in builds {
            assert!(b["status"] == "succeeded" || b["status"] == "skipped", "{id}: {b:#}\n{}", host.log());
        }
        // A build interrupted by the full disk ran again after it and may have built the last
        // base already; the build the last delivery queued then found nothing new (skipped).
        let last = builds.iter().find(|b| b["status"] == "succeeded").unwrap();
        assert_eq!(last["inputs"]["source"]["digest"], base2.as_str(), "{id}: built from the last base");
    }
    let log = host.log();
    let complaints = log.lines().filter(|l| l.contains("claiming failed")).count();
    assert!((1..=8).contains(&complaints), "failed claims back off and are not logged each time:\n{log}");
    assert!(log.contains("claiming works again"), "{log}");
    let out = run(Command::new("sqlite3").arg(data.join("tailor.db")).arg("PRAGMA integrity_check"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    assert!(!log.contains("panicked"), "{log}");
}
