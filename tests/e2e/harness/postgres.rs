//! PostgreSQL for the e2e tests: a fresh database on the cluster tests/run.sh started
//! (`TAILOR_TEST_POSTGRES`), or a private cluster of the test's own (tests/postgres.sh) that it
//! can restart. Nothing is skipped without PostgreSQL: the test fails and says how to get it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{root, run};

fn psql(url: &str, sql: &str) -> String {
    let out = run(Command::new("psql").args([url, "-Atqc", sql]));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new, empty database on the shared test cluster: its URL.
pub fn database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("TAILOR_TEST_POSTGRES").expect(
        "TAILOR_TEST_POSTGRES=postgres://… is needed: tests/run.sh starts a cluster (or: tests/postgres.sh start DIR)",
    );
    let name = format!("e2e_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    psql(&url, &format!("CREATE DATABASE {name}"));
    let (server, _) = url.rsplit_once('/').expect("a database URL ends in /DATABASE");
    format!("{server}/{name}")
}

/// Runs `sql` on the database at `url`; the output, rows on lines, columns split by `|`.
pub fn query(url: &str, sql: &str) -> String {
    psql(url, sql)
}

/// A cluster of the test's own, stopped on drop.
pub struct Cluster {
    dir: tempfile::TempDir,
    pub url: String,
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new().prefix("tailor-pg-").tempdir().unwrap();
        let out = run(Command::new(script()).arg("start").arg(dir.path()));
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Cluster { dir, url }
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server is back on the same port.
    pub fn restart(&self) {
        run(Command::new(script()).arg("restart").arg(self.dir.path()));
    }

    /// A new database on this cluster.
    pub fn database(&self, name: &str) -> String {
        psql(&self.url, &format!("CREATE DATABASE {name}"));
        let (server, _) = self.url.rsplit_once('/').unwrap();
        format!("{server}/{name}")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(self.dir.path()).output();
    }
}

fn script() -> PathBuf {
    root().join("tests/postgres.sh")
}
