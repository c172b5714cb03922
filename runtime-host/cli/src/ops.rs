//! The store's side of /readyz and /metrics (`tailor up`, `tailor serve`, `tailor worker`).

use std::fmt::Write;
use std::sync::Arc;

use tailor_store::{BUILD_BUCKETS, NativeDb, SCHEMA_VERSION, block_on, schema_version, store_metrics};

pub struct StoreOps {
    db: NativeDb,
    role: &'static str,
}

impl StoreOps {
    pub fn open(database: &str, role: &'static str) -> anyhow::Result<Arc<StoreOps>> {
        Ok(Arc::new(StoreOps { db: NativeDb::open(database)?, role }))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn gauge(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl tailor_host::Ops for StoreOps {
    fn ready(&self) -> Result<(), String> {
        match block_on(schema_version(&self.db)) {
            Ok(v) if v == SCHEMA_VERSION => Ok(()),
            Ok(v) if v < SCHEMA_VERSION => Err(format!(
                "the store's schema is version {v}, this tailor needs {SCHEMA_VERSION}: run tailor migrate"
            )),
            Ok(v) => {
                Err(format!("the store's schema is version {v}, newer than this tailor's {SCHEMA_VERSION}: upgrade"))
            }
            Err(e) => Err(format!("the store ({}) is not reachable: {e}", self.db.location())),
        }
    }

    fn metrics(&self) -> String {
        let mut out = String::new();
        gauge(&mut out, "tailor_up", "1 while this process runs; its role is a label.", "gauge");
        let _ = writeln!(out, "tailor_up{{role=\"{}\"}} 1", self.role);
        let m = match block_on(store_metrics(&self.db, now_ms())) {
            Ok(m) => m,
            Err(e) => {
                gauge(&mut out, "tailor_store_up", "Whether the store answered this scrape.", "gauge");
                let _ = writeln!(out, "tailor_store_up 0");
                eprintln!("tailor: /metrics: reading the store: {e}");
                return out;
            }
        };
        gauge(&mut out, "tailor_store_up", "Whether the store answered this scrape.", "gauge");
        let _ = writeln!(out, "tailor_store_up 1");
        gauge(
            &mut out,
            "tailor_queue_depth",
            "Builds and mirror syncs by state: queued (of which claimable now) and running.",
            "gauge",
        );
        let _ = writeln!(out, "tailor_queue_depth{{state=\"queued\"}} {}", m.queued);
        let _ = writeln!(out, "tailor_queue_depth{{state=\"claimable\"}} {}", m.claimable);
        let _ = writeln!(out, "tailor_queue_depth{{state=\"running\"}} {}", m.running);
        gauge(
            &mut out,
            "tailor_queue_oldest_claimable_seconds",
            "How long the oldest claimable build has waited for a worker.",
            "gauge",
        );
        let _ = writeln!(out, "tailor_queue_oldest_claimable_seconds {}", m.oldest_claimable_ms as f64 / 1000.0);
        gauge(&mut out, "tailor_builds", "Recorded builds and syncs by status.", "gauge");
        for (status, n) in &m.builds {
            let _ = writeln!(out, "tailor_builds{{status=\"{status}\"}} {n}");
        }
        gauge(
            &mut out,
            "tailor_build_duration_seconds",
            "Time from a build's first claim to its end, of recorded builds.",
            "histogram",
        );
        for (b, n) in BUILD_BUCKETS.iter().zip(&m.duration_buckets) {
            let _ = writeln!(out, "tailor_build_duration_seconds_bucket{{le=\"{b}\"}} {n}");
        }
        let _ = writeln!(out, "tailor_build_duration_seconds_bucket{{le=\"+Inf\"}} {}", m.duration_count);
        let _ = writeln!(out, "tailor_build_duration_seconds_sum {}", m.duration_sum_ms as f64 / 1000.0);
        let _ = writeln!(out, "tailor_build_duration_seconds_count {}", m.duration_count);
        gauge(
            &mut out,
            "tailor_webhook_events_recent",
            "Webhook event ids remembered for deduplication, by endpoint.",
            "gauge",
        );
        for (endpoint, n) in &m.events {
            let _ = writeln!(out, "tailor_webhook_events_recent{{endpoint=\"{endpoint}\"}} {n}");
        }
        gauge(&mut out, "tailor_subjects", "Customizations, chart customizations and mirrors in the store.", "gauge");
        let _ = writeln!(out, "tailor_subjects{{kind=\"customization\"}} {}", m.customizations);
        let _ = writeln!(out, "tailor_subjects{{kind=\"chart\"}} {}", m.charts);
        let _ = writeln!(out, "tailor_subjects{{kind=\"mirror\"}} {}", m.mirrors);
        out
    }
}
