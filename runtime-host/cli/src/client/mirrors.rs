//! `tailor mirror list|get|create|edit|delete|sync|syncs|upstreams`: mirrors in the service
//! (`tailor mirror copy` copies once without it).

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use tailor_client::api::{Body, encode};
use tailor_client::render::{cell, details};
use tailor_client::{Api, Error};

use super::builds::{HEADERS, row};
use super::customizations::WaitArgs;
use super::wait::{Owner, wait};
use super::{Conn, confirm_delete, if_match, patch_body, print, spec_body, table_of};

/// The fields of a mirror (`edit -f` patches each: absent ones go back to their default).
const FIELDS: [&str; 5] = ["source", "destination", "tags", "verify_keys", "poll_interval_s"];

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// The mirror's id (mir_…) or destination repository.
    pub mirror: String,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "source"])))]
pub struct CreateArgs {
    /// The mirror as a file (YAML or JSON: source, destination, tags, verify_keys,
    /// poll_interval_s); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with_all = ["destination", "tags", "verify_keys", "poll_interval"])]
    pub file: Option<PathBuf>,
    /// The upstream repository, HOST/REPOSITORY on a declared upstream (`tailor mirror upstreams`).
    #[arg(long, value_name = "HOST/REPOSITORY")]
    pub source: Option<String>,
    /// ORG/NAME in the org's registry [default: ORG/dhi-<last segment of the source>].
    #[arg(long, value_name = "REPOSITORY")]
    pub destination: Option<String>,
    /// Only tags matching this glob (repeatable) [default: every tag].
    #[arg(long = "tag", value_name = "GLOB")]
    pub tags: Vec<String>,
    /// Copy only tags signed for this public key (PEM file; repeatable).
    #[arg(long = "verify-key", value_name = "FILE")]
    pub verify_keys: Vec<PathBuf>,
    /// Seconds between polls of the upstream: 0 (never) or 30 to 604800 [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub poll_interval: Option<u64>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["file", "patch"])))]
pub struct EditArgs {
    /// The mirror's id (mir_…) or destination repository.
    pub mirror: String,
    /// The whole mirror as a file (fields it leaves out go back to their defaults).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A JSON merge patch of the mirror's fields: inline JSON, @FILE or - (stdin).
    #[arg(long, value_name = "JSON")]
    pub patch: Option<String>,
    /// Only if the mirror is still at this revision (else exit 6).
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The mirror's id (mir_…) or destination repository.
    pub mirror: String,
    /// Delete without asking.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The mirror's id (mir_…) or destination repository.
    pub mirror: String,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn list(a: ListArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let answer = api.get(&api.org_path("/mirrors")?)?;
        print(c, &answer, |a| {
            table_of(
                &a["mirrors"],
                &["ID", "SOURCE", "DESTINATION", "TAGS", "POLL", "LAST SYNC", "CHECKED"],
                "No mirrors.",
                |m| {
                    let last = match m["last_sync"]["number"].as_u64() {
                        Some(n) => format!("{n} {}", cell(&m["last_sync"]["status"])),
                        None => "-".into(),
                    };
                    vec![
                        cell(&m["id"]),
                        cell(&m["source"]),
                        cell(&m["destination"]),
                        if m["tags"].as_array().is_some_and(Vec::is_empty) { "*".into() } else { cell(&m["tags"]) },
                        format!("{}s", cell(&m["poll_interval_s"])),
                        last,
                        cell(&m["last_checked"]),
                    ]
                },
            )
        });
        Ok(())
    })
}

/// The mirror `given` names (id or destination repository): its id.
pub fn find(api: &Api, given: &str) -> Result<String, Error> {
    if given.starts_with("mir_") {
        return Ok(given.to_owned());
    }
    let org = api.org()?;
    let full = if given.contains('/') { given.to_owned() } else { format!("{org}/{given}") };
    let missing = format!("no mirror has id or destination `{given}`: list them with `tailor mirror list`");
    super::id_by(api, "mirrors", "destination", &full, missing)
}

fn path(api: &Api, id: &str) -> Result<String, Error> {
    api.org_path(&format!("/mirrors/{}", encode(id, false)))
}

pub fn get(a: GetArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let id = find(&api, &a.mirror)?;
        print(c, &api.get(&path(&api, &id)?)?, details);
        Ok(())
    })
}

/// Prints a mirror a change returned, after waiting for its sync when asked.
fn changed(c: &Conn, api: &Api, answer: Value, w: &WaitArgs, verb: &str) -> Result<(), Error> {
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let number = answer["sync"]["number"].as_u64();
    super::progress(
        w.quiet,
        &format!(
            "{verb} {id} ({} → {}){}",
            cell(&answer["source"]),
            cell(&answer["destination"]),
            number.map(|n| format!("; sync {n} queued")).unwrap_or_default()
        ),
    );
    let mut answer = answer;
    if w.wait
        && let Some(n) = number
    {
        answer["sync"] = wait(api, &Owner::mirror(&id), n, w.timeout, w.quiet, None)?;
    }
    print(c, &answer, |a| {
        let mut out = details(&json!({"id": a["id"], "source": a["source"], "destination": a["destination"],
                                       "revision": a["revision"]}));
        if a["sync"].is_object() {
            let mut t = tailor_client::Table::new(&HEADERS);
            t.row(row(&a["sync"]));
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    });
    Ok(())
}

pub fn create(a: CreateArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = match &a.file {
            Some(f) => spec_body(f)?,
            None => {
                let mut doc = json!({ "source": a.source });
                if let Some(d) = &a.destination {
                    doc["destination"] = json!(d);
                }
                if !a.tags.is_empty() {
                    doc["tags"] = json!(a.tags);
                }
                let mut keys = Vec::new();
                for k in &a.verify_keys {
                    keys.push(
                        std::fs::read_to_string(k)
                            .map_err(|e| Error::Input(format!("--verify-key {}: {e}", k.display())))?,
                    );
                }
                if !keys.is_empty() {
                    doc["verify_keys"] = json!(keys);
                }
                if let Some(p) = a.poll_interval {
                    doc["poll_interval_s"] = json!(p);
                }
                Body::json(&doc)
            }
        };
        let api = c.api()?;
        let answer = api.send("POST", &api.org_path("/mirrors")?, Some(body), None)?.json()?;
        changed(c, &api, answer, &a.wait, "created")
    })
}

pub fn edit(a: EditArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = match (&a.file, &a.patch) {
            (Some(f), _) => {
                let what = format!("-f {}", f.display());
                let text = String::from_utf8(spec_body(f)?.bytes).unwrap_or_default();
                let doc = tailor_client::document::parse(&text, &what)?;
                Body::merge_patch(&tailor_client::document::whole(&doc, &FIELDS, &what)?)
            }
            (None, Some(p)) => patch_body(p)?,
            (None, None) => return Err(Error::Input("give the mirror (-f FILE) or a --patch".into())),
        };
        let api = c.api()?;
        let id = find(&api, &a.mirror)?;
        let answer = api.send("PATCH", &path(&api, &id)?, Some(body), if_match(a.revision).as_deref())?.json()?;
        changed(c, &api, answer, &a.wait, "changed")
    })
}

pub fn delete(a: DeleteArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let id = find(&api, &a.mirror)?;
        let doc = api.get(&path(&api, &id)?)?;
        let destination = doc["destination"].as_str().unwrap_or(&id).to_owned();
        confirm_delete("the mirror into", &destination, a.yes)?;
        api.send("DELETE", &path(&api, &id)?, None, None)?;
        print(c, &json!({"deleted": id, "destination": destination}), |_| {
            format!("Deleted {id} (the mirror into {destination}; what it copied stays).\n")
        });
        Ok(())
    })
}

pub fn sync(a: SyncArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let id = find(&api, &a.mirror)?;
        let owner = Owner::mirror(&id);
        let queued = api.send("POST", &owner.runs(&api)?, None, None)?.json()?;
        let number = queued["number"].as_u64().unwrap_or_default();
        super::progress(a.wait.quiet, &format!("{id} sync {number} queued"));
        let result = if a.wait.wait { wait(&api, &owner, number, a.wait.timeout, a.wait.quiet, None)? } else { queued };
        print(c, &result, |s| {
            let mut out = {
                let mut t = tailor_client::Table::new(&HEADERS);
                t.row(row(s));
                t.render()
            };
            if let Some(tags) = s["tags"].as_array().filter(|t| !t.is_empty()) {
                out.push('\n');
                out.push_str(&table_of(&json!(tags), &["TAG", "ACTION", "DIGEST", "REASON"], "", |t| {
                    vec![
                        cell(&t["tag"]),
                        cell(&t["action"]),
                        tailor_client::render::short_digest(&t["digest"]),
                        cell(&t["reason"]),
                    ]
                }));
            }
            out
        });
        Ok(())
    })
}

pub fn upstreams(a: ListArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let answer = api.get("/v1/upstreams")?;
        print(c, &answer, |a| {
            let hosts: Vec<&str> = a["upstreams"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            if hosts.is_empty() {
                "No upstreams are declared (the operator adds them: tailor up --upstream HOST=URL).\n".into()
            } else {
                hosts.iter().map(|h| format!("{h}\n")).collect()
            }
        });
        Ok(())
    })
}
