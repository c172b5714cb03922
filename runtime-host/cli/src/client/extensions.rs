//! `tailor extension list|get|create|edit|delete`: the org's registered extensions in the
//! service (`tailor extension push|test` work with components themselves).

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use tailor_client::api::{Body, encode};
use tailor_client::render::{cell, details};
use tailor_client::{Api, Error};

use super::{Conn, confirm_delete, if_match, patch_body, print, spec_body, table_of};

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// Its id (ext_…) or name.
    pub extension: String,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "name"])))]
pub struct CreateArgs {
    /// The registration as a file (YAML or JSON: name, reference, settings, mode, applies_to);
    /// `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with_all = ["name", "reference", "settings", "mode", "applies_to"])]
    pub file: Option<PathBuf>,
    /// Its name in the org.
    #[arg(long, requires = "reference")]
    pub name: Option<String>,
    /// The component, ORG/REPO:TAG or ORG/REPO@sha256:… (pushed with `tailor extension push`).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// Its settings (a JSON object).
    #[arg(long, value_name = "JSON")]
    pub settings: Option<String>,
    /// `enforce` (a deny fails the build) or `warn` (findings recorded only) [default: enforce].
    #[arg(long)]
    pub mode: Option<String>,
    /// Only builds from source repositories matching this glob, e.g. acme/dhi-* (repeatable).
    #[arg(long = "applies-to", value_name = "GLOB")]
    pub applies_to: Vec<String>,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Its id (ext_…) or name.
    pub extension: String,
    /// A JSON merge patch of its fields: inline JSON, @FILE or - (stdin),
    /// e.g. '{"mode": "warn"}'.
    #[arg(long, value_name = "JSON")]
    pub patch: String,
    /// Only if it is still at this revision (else exit 6).
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Its id (ext_…) or name.
    pub extension: String,
    /// Remove without asking.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub conn: Conn,
}

const HEADERS: [&str; 7] = ["ID", "NAME", "MODE", "STATUS", "REFERENCE", "DIGEST", "APPLIES TO"];

fn row(x: &Value) -> Vec<String> {
    let status = match x["reason"].as_str() {
        Some(r) if x["status"] == "invalid" => format!("invalid: {r}"),
        _ => cell(&x["status"]),
    };
    let applies =
        if x["applies_to"].as_array().is_some_and(Vec::is_empty) { "*".into() } else { cell(&x["applies_to"]) };
    vec![
        cell(&x["id"]),
        cell(&x["name"]),
        cell(&x["mode"]),
        status,
        cell(&x["reference"]),
        tailor_client::render::short_digest(&x["digest"]),
        applies,
    ]
}

pub fn list(a: ListArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let answer = api.get(&api.org_path("/extensions")?)?;
        print(c, &answer, |a| table_of(&a["extensions"], &HEADERS, "No extensions.", row));
        Ok(())
    })
}

fn find(api: &Api, given: &str) -> Result<String, Error> {
    if given.starts_with("ext_") {
        return Ok(given.to_owned());
    }
    let missing = format!("no extension is named `{given}`: list them with `tailor extension list`");
    super::id_by(api, "extensions", "name", given, missing)
}

fn path(api: &Api, id: &str) -> Result<String, Error> {
    api.org_path(&format!("/extensions/{}", encode(id, false)))
}

pub fn get(a: GetArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let id = find(&api, &a.extension)?;
        print(c, &api.get(&path(&api, &id)?)?, details);
        Ok(())
    })
}

pub fn create(a: CreateArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = match &a.file {
            Some(f) => spec_body(f)?,
            None => {
                let mut doc = json!({"name": a.name, "reference": a.reference});
                if let Some(s) = &a.settings {
                    let v: Value = serde_json::from_str(s).map_err(|e| {
                        Error::Input(format!("--settings is not JSON ({e}): e.g. '{{\"labels\": [\"team\"]}}'"))
                    })?;
                    doc["settings"] = v;
                }
                if let Some(m) = &a.mode {
                    doc["mode"] = json!(m);
                }
                if !a.applies_to.is_empty() {
                    doc["applies_to"] = json!(a.applies_to);
                }
                Body::json(&doc)
            }
        };
        let api = c.api()?;
        let answer = api.send("POST", &api.org_path("/extensions")?, Some(body), None)?.json()?;
        super::progress(
            false,
            &format!("registered {} ({}): pending until a worker loads it", cell(&answer["name"]), cell(&answer["id"])),
        );
        print(c, &answer, details);
        Ok(())
    })
}

pub fn edit(a: EditArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = patch_body(&a.patch)?;
        let api = c.api()?;
        let id = find(&api, &a.extension)?;
        let answer = api.send("PATCH", &path(&api, &id)?, Some(body), if_match(a.revision).as_deref())?.json()?;
        print(c, &answer, details);
        Ok(())
    })
}

pub fn delete(a: DeleteArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let id = find(&api, &a.extension)?;
        let doc = api.get(&path(&api, &id)?)?;
        let name = doc["name"].as_str().unwrap_or(&id).to_owned();
        confirm_delete("extension", &name, a.yes)?;
        api.send("DELETE", &path(&api, &id)?, None, None)?;
        print(c, &json!({"deleted": id, "name": name}), |_| format!("Removed {id} ({name}).\n"));
        Ok(())
    })
}
