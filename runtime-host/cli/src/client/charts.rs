//! `tailor chart list|get|create|edit|delete|references`: chart customizations in the service
//! (`tailor chart build` builds one without it; their builds: `tailor builds … chc_…`).

use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};
use tailor_client::api::encode;
use tailor_client::render::{cell, details, yaml};
use tailor_client::{Api, Error};

use super::builds::{HEADERS, row};
use super::customizations::WaitArgs;
use super::wait::{Owner, wait};
use super::{Conn, OutputFormat, confirm_delete, if_match, patch_body, print, spec_body, table_of};

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// Its id (chc_…) or name.
    pub chart: String,
    /// Only the spec (YAML unless --output json), ready for `edit -f`.
    #[arg(long)]
    pub spec: bool,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The chart customization (YAML or JSON; `-` reads stdin).
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
    /// Its id (chc_…) or name.
    pub chart: String,
    /// The whole new spec (YAML or JSON; `-` reads stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A JSON merge patch of the spec: inline JSON, @FILE or - (stdin).
    #[arg(long, value_name = "JSON")]
    pub patch: Option<String>,
    /// Only if it is still at this revision (else exit 6).
    #[arg(long, value_name = "N")]
    pub revision: Option<u64>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Its id (chc_…) or name.
    pub chart: String,
    /// Delete without asking.
    #[arg(short, long)]
    pub yes: bool,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct ReferencesArgs {
    /// A chart version in the org's registry, REPOSITORY:VERSION (e.g. acme/dhi-web-chart:1.2.0).
    pub chart: String,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn list(a: ListArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let answer = api.get(&api.org_path("/chart-customizations")?)?;
        print(c, &answer, |a| {
            table_of(
                &a["chart_customizations"],
                &["ID", "NAME", "REVISION", "SOURCE", "DESTINATION", "UPDATED"],
                "No chart customizations.",
                |x| {
                    vec![
                        cell(&x["id"]),
                        cell(&x["name"]),
                        cell(&x["revision"]),
                        cell(&x["source_repository"]),
                        cell(&x["destination"]),
                        cell(&x["updated_at"]),
                    ]
                },
            )
        });
        Ok(())
    })
}

/// The chart customization `given` names (id or name): its id and document.
fn find(api: &Api, given: &str) -> Result<(String, Value), Error> {
    let id = if given.starts_with("chc_") {
        given.to_owned()
    } else {
        let list = api.get(&api.org_path("/chart-customizations")?)?;
        let found = list["chart_customizations"].as_array().into_iter().flatten().find(|c| c["name"] == given);
        found.and_then(|c| c["id"].as_str()).map(str::to_owned).ok_or_else(|| Error::Api {
            status: 404,
            code: "not_found".into(),
            message: format!("no chart customization is named `{given}`: list them with `tailor chart list`"),
            details: vec![],
        })?
    };
    let doc = api.get(&path(api, &id)?)?;
    Ok((id, doc))
}

fn path(api: &Api, id: &str) -> Result<String, Error> {
    api.org_path(&format!("/chart-customizations/{}", encode(id, false)))
}

pub fn get(a: GetArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let (_, doc) = find(&api, &a.chart)?;
        if a.spec {
            match c.output {
                OutputFormat::Json => print!("{}", tailor_client::render::json(&doc["spec"])),
                _ => print!("{}", yaml(&doc["spec"])),
            }
            return Ok(());
        }
        print(c, &doc, details);
        Ok(())
    })
}

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
        answer["build"] = wait(api, &Owner::chart(&id), n, w.timeout, w.quiet, None)?;
    }
    print(c, &answer, |a| {
        let mut out = details(&json!({"id": a["id"], "name": a["name"], "revision": a["revision"],
                                       "destination": a["destination"]}));
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

pub fn create(a: CreateArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = spec_body(&a.file)?;
        let api = c.api()?;
        let answer = api.send("POST", &api.org_path("/chart-customizations")?, Some(body), None)?.json()?;
        changed(c, &api, answer, &a.wait, "created")
    })
}

pub fn edit(a: EditArgs) -> u8 {
    super::run(&a.conn, |c| {
        let body = match (&a.file, &a.patch) {
            (Some(f), _) => spec_body(f)?,
            (None, Some(p)) => patch_body(p)?,
            (None, None) => return Err(Error::Input("give the new spec (-f FILE) or a --patch".into())),
        };
        let method = if a.file.is_some() { "PUT" } else { "PATCH" };
        let api = c.api()?;
        let (id, _) = find(&api, &a.chart)?;
        let answer = api.send(method, &path(&api, &id)?, Some(body), if_match(a.revision).as_deref())?.json()?;
        changed(c, &api, answer, &a.wait, "changed")
    })
}

pub fn delete(a: DeleteArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let (id, doc) = find(&api, &a.chart)?;
        let name = doc["name"].as_str().unwrap_or(&id).to_owned();
        confirm_delete("chart customization", &name, a.yes)?;
        api.send("DELETE", &path(&api, &id)?, None, None)?;
        print(c, &json!({"deleted": id, "name": name}), |_| format!("Deleted {id} ({name}).\n"));
        Ok(())
    })
}

pub fn references(a: ReferencesArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let (repository, version) = super::catalog::split_tag(&api, &a.chart)?;
        let answer = super::catalog::listing(
            &api,
            &format!("/repositories/{}/tags/{}/references", encode(&repository, true), encode(&version, false)),
        )?;
        print(c, &answer, |a| {
            let mut out =
                table_of(&a["references"], &["REFERENCE", "FILE", "LINE", "PATH"], "No image references.", |r| {
                    vec![cell(&r["reference"]), cell(&r["file"]), cell(&r["line"]), cell(&r["path"])]
                });
            if let Some(lit) = a["literal_template_images"].as_array().filter(|l| !l.is_empty()) {
                out.push_str("\nWritten literally in templates (not mappable through values):\n");
                for l in lit {
                    out.push_str(&format!("  {}\n", if l.is_string() { cell(l) } else { l.to_string() }));
                }
            }
            out
        });
        Ok(())
    })
}
