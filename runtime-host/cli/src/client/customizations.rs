//! `tailor customization list|get|create|edit|copy|delete`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tailor_client::api::{Body, encode};
use tailor_client::render::{cell, details, yaml};
use tailor_client::{Api, Error};

use super::builds::{HEADERS, row};
use super::wait::{Owner, parse_timeout, wait};
use super::{Conn, OutputFormat, confirm_delete, if_match, patch_body, print, spec_body, table_of};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The org's customizations, oldest first.
    #[command(after_help = super::EXIT_STATUSES)]
    List(ListArgs),
    /// One customization (by id or name); --spec prints only its spec, ready for `edit -f`.
    #[command(after_help = super::EXIT_STATUSES)]
    Get(GetArgs),
    /// Create a customization from a spec file (YAML or JSON); its first build is queued.
    #[command(after_help = super::EXIT_STATUSES)]
    Create(CreateArgs),
    /// Replace a customization's spec with a file (PUT), or change some fields (--patch).
    #[command(after_help = super::EXIT_STATUSES)]
    Edit(EditArgs),
    /// Create a new customization from an existing one, with other fields patched in.
    #[command(after_help = super::EXIT_STATUSES)]
    Copy(CopyArgs),
    /// Delete a customization (owners only); asks for its name to be typed, or --yes.
    #[command(after_help = super::EXIT_STATUSES)]
    Delete(DeleteArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only customizations of this source repository, e.g. acme/debian.
    #[arg(long, value_name = "REPOSITORY")]
    pub repository: Option<String>,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// Its id (cus_…) or name.
    pub customization: String,
    /// Only the spec (YAML unless --output json).
    #[arg(long)]
    pub spec: bool,
    #[command(flatten)]
    pub conn: Conn,
}

/// Waiting for the build a change queued.
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Wait for the queued build to end; exit 1 when it failed.
    #[arg(short, long)]
    pub wait: bool,
    /// Give up waiting after this long (the build goes on).
    #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The spec: YAML, or JSON (a .json name or a `{` first); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["file", "patch"])))]
pub struct EditArgs {
    /// Its id (cus_…) or name.
    pub customization: String,
    /// The whole new spec (YAML or JSON; `-` reads stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A JSON merge patch of the spec: inline JSON, @FILE or - (stdin).
    #[arg(long, value_name = "JSON")]
    pub patch: Option<String>,
    /// Only if the customization is still at this revision (else exit 6) [default: whatever it is].
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// The customization to copy: its id (cus_…) or name.
    pub customization: String,
    /// The copy's name.
    #[arg(long)]
    pub name: Option<String>,
    /// The copy's tag suffix.
    #[arg(long, value_name = "SUFFIX")]
    pub tag_suffix: Option<String>,
    /// More changes, as a JSON merge patch of the spec (inline, @FILE or -).
    #[arg(long, value_name = "JSON")]
    pub patch: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Its id (cus_…) or name.
    pub customization: String,
    /// Delete without asking.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn run(command: Command) -> u8 {
    match command {
        Command::List(a) => super::run(&a.conn, |c| list(c, a.repository.as_deref())),
        Command::Get(a) => super::run(&a.conn, |c| get(c, &a)),
        Command::Create(a) => super::run(&a.conn, |c| create(c, &a)),
        Command::Edit(a) => super::run(&a.conn, |c| edit(c, &a)),
        Command::Copy(a) => super::run(&a.conn, |c| copy(c, &a)),
        Command::Delete(a) => super::run(&a.conn, |c| delete(c, &a)),
    }
}

const LIST_HEADERS: [&str; 6] = ["ID", "NAME", "REVISION", "SOURCE", "RESULT", "UPDATED"];

fn list(c: &Conn, repository: Option<&str>) -> Result<(), Error> {
    let api = c.api()?;
    let mut path = api.org_path("/customizations")?;
    if let Some(r) = repository {
        path.push_str(&format!("?source_repository={}", encode(r, true)));
    }
    let answer = api.get(&path)?;
    print(c, &answer, |a| {
        table_of(&a["customizations"], &LIST_HEADERS, "No customizations.", |x| {
            vec![
                cell(&x["id"]),
                cell(&x["name"]),
                cell(&x["revision"]),
                cell(&x["spec"]["source"]),
                cell(&x["result"]),
                cell(&x["updated_at"]),
            ]
        })
    });
    Ok(())
}

/// The customization `given` names (id or name): its id and document.
pub fn find(api: &Api, given: &str) -> Result<(String, Value), Error> {
    let id = if given.starts_with("cus_") {
        given.to_owned()
    } else {
        let list = api.get(&api.org_path("/customizations")?)?;
        let found = list["customizations"].as_array().into_iter().flatten().find(|c| c["name"] == given);
        match found.and_then(|c| c["id"].as_str()) {
            Some(id) => id.to_owned(),
            None => {
                return Err(Error::Api {
                    status: 404,
                    code: "not_found".into(),
                    message: format!("no customization is named `{given}`: list them with `tailor customization list`"),
                    details: vec![],
                });
            }
        }
    };
    let doc = api.get(&api.org_path(&format!("/customizations/{}", encode(&id, false)))?)?;
    Ok((id, doc))
}

fn get(c: &Conn, a: &GetArgs) -> Result<(), Error> {
    let api = c.api()?;
    let (_, doc) = find(&api, &a.customization)?;
    if a.spec {
        match c.output {
            OutputFormat::Json => print!("{}", tailor_client::render::json(&doc["spec"])),
            _ => print!("{}", yaml(&doc["spec"])),
        }
        return Ok(());
    }
    print(c, &doc, details);
    Ok(())
}

/// Prints a customization a change returned, after waiting for its build when asked.
fn changed(c: &Conn, api: &Api, answer: Value, w: &WaitArgs, verb: &str) -> Result<(), Error> {
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let number = answer["build"]["number"].as_u64();
    super::progress(
        w.quiet,
        &format!(
            "{verb} {id} ({}), revision {}{}",
            cell(&answer["name"]),
            cell(&answer["revision"]),
            number.map(|n| format!("; build {n} queued")).unwrap_or_default()
        ),
    );
    let mut answer = answer;
    if w.wait
        && let Some(n) = number
    {
        answer["build"] = wait(api, &Owner::customization(&id), n, w.timeout, w.quiet, None)?;
    }
    print(c, &answer, |a| {
        let mut out =
            details(&json!({"id": a["id"], "name": a["name"], "revision": a["revision"], "result": a["result"]}));
        if a["build"].is_object() {
            let mut t = tailor_client::Table::new(&HEADERS);
            t.row(row(&a["build"]));
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    });
    Ok(())
}

fn create(c: &Conn, a: &CreateArgs) -> Result<(), Error> {
    let body = spec_body(&a.file)?;
    let api = c.api()?;
    let answer = api.send("POST", &api.org_path("/customizations")?, Some(body), None)?.json()?;
    changed(c, &api, answer, &a.wait, "created")
}

fn edit(c: &Conn, a: &EditArgs) -> Result<(), Error> {
    let body = match (&a.file, &a.patch) {
        (Some(f), _) => spec_body(f)?,
        (None, Some(p)) => patch_body(p)?,
        (None, None) => return Err(Error::Input("give the new spec (-f FILE) or a --patch".into())),
    };
    let method = if a.file.is_some() { "PUT" } else { "PATCH" };
    let api = c.api()?;
    let (id, _) = find(&api, &a.customization)?;
    let path = api.org_path(&format!("/customizations/{}", encode(&id, false)))?;
    let answer = api.send(method, &path, Some(body), if_match(a.revision).as_deref())?.json()?;
    changed(c, &api, answer, &a.wait, "changed")
}

fn copy(c: &Conn, a: &CopyArgs) -> Result<(), Error> {
    let mut patch = match &a.patch {
        Some(p) => serde_json::from_slice::<Value>(&patch_body(p)?.bytes).unwrap_or_else(|_| json!({})),
        None => json!({}),
    };
    if let Some(n) = &a.name {
        patch["name"] = json!(n);
    }
    if let Some(s) = &a.tag_suffix {
        patch["tag_suffix"] = json!(s);
    }
    let api = c.api()?;
    let (id, _) = find(&api, &a.customization)?;
    let path = api.org_path(&format!("/customizations/{}/copy", encode(&id, false)))?;
    let answer = api.send("POST", &path, Some(Body::merge_patch(&patch)), None)?.json()?;
    changed(c, &api, answer, &a.wait, "copied to")
}

fn delete(c: &Conn, a: &DeleteArgs) -> Result<(), Error> {
    let api = c.api()?;
    let (id, doc) = find(&api, &a.customization)?;
    let name = doc["name"].as_str().unwrap_or(&id).to_owned();
    confirm_delete("customization", &name, a.yes)?;
    api.send("DELETE", &api.org_path(&format!("/customizations/{}", encode(&id, false)))?, None, None)?;
    print(c, &json!({"deleted": id, "name": name}), |_| format!("Deleted {id} ({name}).\n"));
    Ok(())
}
