//! The org's extensions for one build (DESIGN.md §11): those that apply to its source
//! repository, each loaded — its reference resolved to a digest the first time, the artifact
//! read through a client scoped to the org, the component checked and its settings validated
//! — and the outcome recorded for the API (`ready`, or `invalid` with the reason). An enforcing
//! extension that is invalid still runs as a failure: its builds fail closed.

use std::sync::Arc;

use tailor_extension::{Registered, Runtime};
use tailor_oci::Client;
use tailor_spec::Reference;
use tailor_store::{Extension, NativeDb, block_on, list_extensions, record_extension_check};

use crate::worker::{WorkerConfig, now_ms};

/// The applicable extensions, loaded. `Err`: the registry could not be read (try again later).
pub fn for_build(
    db: &NativeDb,
    cfg: &WorkerConfig,
    rt: &Arc<Runtime>,
    org: &str,
    source_repository: &str,
) -> Result<Vec<Registered>, String> {
    let all = block_on(list_extensions(db, org)).map_err(|e| format!("listing the org's extensions: {e}"))?;
    let applicable: Vec<Extension> = all.into_iter().filter(|x| x.spec.applies_to(source_repository)).collect();
    if applicable.is_empty() {
        return Ok(Vec::new());
    }
    let client = cfg.target.client(org, &[]).map_err(|e| format!("registry: {e}"))?;
    applicable.iter().map(|x| load(db, rt, &client, x)).collect()
}

fn load(db: &NativeDb, rt: &Arc<Runtime>, client: &Client, x: &Extension) -> Result<Registered, String> {
    let r = Reference::parse(&x.spec.reference).map_err(|e| format!("extension {}: {e}", x.name))?;
    let registered = |digest: String, component| Registered {
        name: x.name.clone(),
        repository: r.repository.clone(),
        digest,
        mode: x.spec.mode.clone(),
        settings: x.spec.settings.to_string(),
        component,
    };
    if x.status == "invalid" {
        let why = x.reason.clone().unwrap_or_else(|| "invalid".into());
        return Ok(registered(x.digest.clone().unwrap_or_default(), Err(why)));
    }
    // The digest recorded when this revision was first loaded (a moved tag is not followed
    // until the extension is changed), else what the reference names now.
    let want = x.digest.clone().or_else(|| r.digest.clone()).or_else(|| r.tag.clone()).unwrap_or_default();
    if let Some(d) = &x.digest
        && let Some(loaded) = rt.loaded(d)
    {
        return Ok(registered(d.clone(), Ok(loaded)));
    }
    let limit = rt.limits().component;
    let (digest, bytes) = match tailor_extension::artifact::pull(client, &r.repository, &want, limit) {
        Ok(found) => found,
        Err(e) if e.class == tailor_extension::Failure::Image => {
            return Err(format!("reading extension {} ({}): {}", x.name, x.spec.reference, e.message));
        }
        Err(e) => {
            let why = e.message;
            let _ = block_on(record_extension_check(db, &x.id, x.revision, x.digest.as_deref(), Some(&why), now_ms()));
            return Ok(registered(x.digest.clone().unwrap_or_default(), Err(why)));
        }
    };
    let digest = digest.to_string();
    let checked = rt.load(&digest, &bytes).map_err(|e| e.to_string()).and_then(|loaded| {
        let outcome = loaded.validate_settings(rt, &x.spec.settings.to_string());
        match outcome.value {
            Ok(Ok(())) => Ok(loaded),
            Ok(Err(why)) => Err(format!("its settings are refused: {why}")),
            Err(e) => Err(format!("validate-settings failed: {e}")),
        }
    });
    let invalid = checked.as_ref().err().map(String::as_str);
    if x.status == "pending" || invalid.is_some() || x.digest.as_deref() != Some(&digest) {
        let _ = block_on(record_extension_check(db, &x.id, x.revision, Some(&digest), invalid, now_ms()));
    }
    Ok(registered(digest, checked))
}

/// What of the extensions makes a build's output (for its fingerprint): each one's name,
/// digest, mode and settings — or why it cannot be used.
pub fn fingerprint_parts(extensions: &[Registered]) -> Vec<String> {
    extensions
        .iter()
        .map(|x| match &x.component {
            Ok(_) => format!("{} {} {} {}", x.name, x.digest, x.mode, x.settings),
            Err(why) => format!("{} invalid {why}", x.name),
        })
        .collect()
}

/// Loads the extensions that are registered but not yet loaded, so the API shows whether they
/// can be used before any build needs them.
pub fn load_pending(db: &NativeDb, cfg: &WorkerConfig, rt: &Arc<Runtime>) {
    let Ok(orgs) = block_on(tailor_store::orgs_with_pending_extensions(db)) else { return };
    for org in orgs {
        let Ok(all) = block_on(list_extensions(db, &org)) else { continue };
        let Ok(client) = cfg.target.client(&org, &[]) else { continue };
        for x in all.iter().filter(|x| x.status == "pending") {
            match load(db, rt, &client, x) {
                Ok(r) => eprintln!(
                    "tailor worker: extension {} of {org}: {}",
                    x.name,
                    r.component.as_ref().map(|_| "ready".to_string()).unwrap_or_else(|e| format!("invalid: {e}"))
                ),
                Err(e) => eprintln!("tailor worker: {e}"),
            }
        }
    }
}
