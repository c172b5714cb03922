//! Waiting for a build or sync to end, and following its log as it grows.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;
use tailor_client::{Api, Error};

/// What has builds: a customization, a chart customization (builds) or a mirror (syncs).
#[derive(Debug, Clone)]
pub struct Owner {
    /// `/customizations/cus_…`, `/chart-customizations/chc_…`, `/mirrors/mir_…` (under the org).
    pub path: String,
    pub id: String,
    /// `build` or `sync`.
    pub noun: &'static str,
}

impl Owner {
    pub fn customization(id: &str) -> Owner {
        Owner { path: format!("/customizations/{}", enc(id)), id: id.into(), noun: "build" }
    }

    pub fn chart(id: &str) -> Owner {
        Owner { path: format!("/chart-customizations/{}", enc(id)), id: id.into(), noun: "build" }
    }

    pub fn mirror(id: &str) -> Owner {
        Owner { path: format!("/mirrors/{}", enc(id)), id: id.into(), noun: "sync" }
    }

    /// `…/builds` or `…/syncs` under the org.
    pub fn runs(&self, api: &Api) -> Result<String, Error> {
        api.org_path(&format!("{}/{}s", self.path, self.noun))
    }
}

fn enc(s: &str) -> String {
    tailor_client::api::encode(s, false)
}

/// Whether a build or sync in `status` has ended.
pub fn ended(status: &str) -> bool {
    !matches!(status, "queued" | "running")
}

/// Polls `number` until it ends (or `timeout`): progress on stderr unless `quiet`, the log
/// copied to `log` as it grows when given. The ended run; [`Error::Failed`] when it failed.
pub fn wait(
    api: &Api,
    owner: &Owner,
    number: u64,
    timeout: Duration,
    quiet: bool,
    mut log: Option<&mut dyn Write>,
) -> Result<Value, Error> {
    let runs = owner.runs(api)?;
    let start = Instant::now();
    let mut last_status = String::new();
    let mut printed = 0usize;
    loop {
        let run = api.get(&format!("{runs}/{number}"))?;
        let status = run["status"].as_str().unwrap_or("unknown").to_owned();
        if let Some(out) = log.as_deref_mut() {
            let text = api.get_text(&format!("{runs}/{number}/log"))?;
            if text.len() < printed {
                printed = 0; // a new attempt's log
            }
            if text.len() > printed {
                let _ = out.write_all(&text.as_bytes()[printed..]);
                let _ = out.flush();
                printed = text.len();
            }
        }
        if status != last_status {
            if !quiet {
                eprintln!("{} {} {number}: {status}", owner.id, owner.noun);
            }
            last_status = status.clone();
        }
        if ended(&status) {
            return match status.as_str() {
                "succeeded" | "skipped" => Ok(run),
                _ => {
                    let why = run["error"].as_str().map(|e| format!(": {e}")).unwrap_or_default();
                    Err(Error::Failed(format!("{} {} {number} {status}{why}", owner.id, owner.noun)))
                }
            };
        }
        if start.elapsed() > timeout {
            return Err(Error::Failed(format!(
                "{} {} {number} is still {status} after {}s (--timeout): it goes on in the service",
                owner.id,
                owner.noun,
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// `30s`, `10m`, `2h` or plain seconds.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (n, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = n.parse().map_err(|_| format!("`{text}` is not a duration such as 90s, 10m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("`{text}`: unit {unit} is not s, m or h")),
    };
    Ok(Duration::from_secs(secs))
}
