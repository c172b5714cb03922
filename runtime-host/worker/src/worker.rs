//! The worker loop: claim, run, repeat; poll dependency tags now and then; stop on request
//! (finishing the build in hand, or releasing it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tailor_build::cache::Cache;
use tailor_store::{NativeDb, block_on, claim, migrate, release_owner};

use crate::target::Target;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The store: a SQLite file's path or a `postgres://` URL.
    pub database: String,
    pub target: Target,
    pub cache: Cache,
    /// Lease length; renewed every third of it while building.
    pub lease_ms: i64,
    pub max_attempts: i64,
    /// First retry delay (doubles per attempt).
    pub retry_base_ms: i64,
    /// How long to sleep when there is nothing to claim.
    pub idle: Duration,
    /// How often to poll the tags customizations depend on (None: never).
    pub poll_interval: Option<Duration>,
    /// Signs every result (index and platform manifests) before its tag moves.
    pub signer: Option<std::sync::Arc<tailor_sign::PrivateKey>>,
    /// `runDetails.builder.id` of the provenance.
    pub builder_id: String,
    /// Where OS packages come from (None: each release's official repositories, no cache).
    pub packages: Option<tailor_build::packages::SharedSource>,
    /// The upstream registries mirrors may read from (declared by the operator).
    pub upstreams: tailor_mirror::Upstreams,
    /// Runs the orgs' policy extensions (None: builds run none, and registered ones are not
    /// loaded — only for tests that do not need wasmtime's engine).
    pub extensions: Option<Arc<tailor_extension::Runtime>>,
}

impl WorkerConfig {
    pub fn new(database: impl Into<String>, target: Target, cache: Cache) -> WorkerConfig {
        WorkerConfig {
            database: database.into(),
            target,
            cache,
            lease_ms: 30_000,
            max_attempts: 3,
            retry_base_ms: 2_000,
            idle: Duration::from_millis(50),
            poll_interval: Some(Duration::from_secs(300)),
            signer: None,
            builder_id: "https://tailor.dev/builder/worker".into(),
            packages: None,
            upstreams: tailor_mirror::Upstreams::default(),
            extensions: None,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub struct Worker {
    cfg: WorkerConfig,
    db: NativeDb,
    owner: String,
    stop: Arc<AtomicBool>,
    catalogs_failed: crate::catalog::Failed,
    /// Claims that failed in a row (the store unreachable or full): they back off and are
    /// logged when they start, at powers of two and when they end, not every time.
    claim_failures: std::sync::atomic::AtomicU32,
}

/// Stops a running worker.
#[derive(Clone)]
pub struct WorkerHandle(Arc<AtomicBool>);

impl WorkerHandle {
    /// The worker stops after the build in hand (if any) is recorded.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Worker {
    /// Opens the store (migrating it) as worker `owner`.
    pub fn new(cfg: WorkerConfig, owner: impl Into<String>) -> Result<Worker> {
        let db = NativeDb::open(&cfg.database)?;
        block_on(migrate(&db)).with_context(|| format!("migrating {}", db.location()))?;
        db.listen_queue().with_context(|| format!("listening for work on {}", db.location()))?;
        Ok(Worker {
            cfg,
            db,
            owner: owner.into(),
            stop: Arc::new(AtomicBool::new(false)),
            catalogs_failed: Default::default(),
            claim_failures: Default::default(),
        })
    }

    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle(self.stop.clone())
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Releases leases a previous incarnation (same owner name, e.g. after `kill -9`) left:
    /// their builds become claimable now instead of when the lease runs out.
    pub fn recover(&self, previous_owner: &str) -> Result<u64> {
        Ok(block_on(release_owner(&self.db, previous_owner, "worker restarted; build resumed\n", false))?)
    }

    /// Runs until stopped.
    pub fn run(&self) {
        let mut last_poll: Option<Instant> = None;
        let mut last_mirror_poll: Option<Instant> = None;
        while !self.stop.load(Ordering::Relaxed) {
            // Mirrors have their own intervals: see which are due every second.
            if last_mirror_poll.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                last_mirror_poll = Some(Instant::now());
                crate::mirror_poll::poll_mirrors(&self.db, &self.cfg);
                crate::listings::read_listings(&self.db, &self.cfg, &self.catalogs_failed);
                if let Some(rt) = &self.cfg.extensions {
                    crate::extensions::load_pending(&self.db, &self.cfg, rt);
                }
            }
            if let Some(every) = self.cfg.poll_interval
                && last_poll.is_none_or(|t| t.elapsed() >= every)
            {
                last_poll = Some(Instant::now());
                crate::poll::poll(&self.db, &self.cfg, &self.catalogs_failed);
            }
            if !self.step() {
                // PostgreSQL wakes the worker when work is enqueued; the timeout is the poll.
                self.db.wait_for_work(self.cfg.idle);
            }
        }
        if let Err(e) = block_on(release_owner(&self.db, &self.owner, "worker stopped; build released\n", true)) {
            eprintln!("tailor worker: releasing leases: {e}");
        }
    }

    /// Claims and runs one build; `false` when there was nothing to do.
    pub fn step(&self) -> bool {
        let claimed = block_on(claim(&self.db, &self.owner, now_ms(), self.cfg.lease_ms, self.cfg.max_attempts));
        if claimed.is_ok() {
            let failed = self.claim_failures.swap(0, Ordering::Relaxed);
            if failed > 0 {
                eprintln!("tailor worker: claiming works again (after {failed} failed attempts)");
            }
        }
        match claimed {
            Ok(Some(c)) => {
                let status = crate::job::run(&self.db, &self.cfg, &self.owner, &c);
                if self.cfg.poll_interval.is_some() {
                    // A base seen for the first time: its catalog now, not at the next poll.
                    crate::catalog::refresh_new(&self.db, &self.cfg, &self.catalogs_failed);
                }
                eprintln!(
                    "tailor worker: {} {} {}: {}",
                    c.customization_id,
                    if c.kind == tailor_store::Kind::Mirror { "sync" } else { "build" },
                    c.build,
                    status.map_or("lease lost", |s| s.as_str())
                );
                true
            }
            Ok(None) => false,
            Err(e) => {
                let n = self.claim_failures.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    eprintln!("tailor worker: claiming failed ({n} in a row; retrying with backoff): {e}");
                }
                std::thread::sleep(claim_backoff(n));
                false
            }
        }
    }

    /// Polls dependency tags once (also run by [`Worker::run`] every `poll_interval`).
    pub fn poll_now(&self) -> usize {
        crate::poll::poll(&self.db, &self.cfg, &self.catalogs_failed)
    }
}

/// How long to wait after the `n`th claim in a row failed: 100 ms doubling, at most 5 s.
fn claim_backoff(n: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << n.saturating_sub(1).min(6)).min(5_000))
}

#[cfg(test)]
mod backoff_tests {
    #[test]
    fn failed_claims_back_off_up_to_five_seconds() {
        let ms: Vec<u128> = (1..=9).map(|n| super::claim_backoff(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }
}
