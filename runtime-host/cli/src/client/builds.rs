//! `tailor builds list|get|logs|rebuild OWNER`: the builds of a customization or chart
//! customization, or the syncs of a mirror — OWNER is its id (`cus_…`, `chc_…`, `mir_…`), a
//! (chart) customization's name or a mirror's destination repository.

use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;
use tailor_client::render::{cell, duration, short_digest};
use tailor_client::{Api, Error};

use super::wait::{Owner, parse_timeout, wait};
use super::{Conn, print, table_of};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The builds (or a mirror's syncs), newest first.
    #[command(after_help = super::EXIT_STATUSES)]
    List(ListArgs),
    /// One build or sync, with its inputs and outputs.
    #[command(after_help = super::EXIT_STATUSES)]
    Get(GetArgs),
    /// A build's or sync's log; --follow prints it as it grows until the run ends.
    #[command(after_help = super::EXIT_STATUSES)]
    Logs(LogsArgs),
    /// Request a build (or a mirror's sync) now; requests coalesce with one already queued.
    #[command(after_help = super::EXIT_STATUSES)]
    Rebuild(RebuildArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// A customization, chart customization or mirror: its id (cus_…, chc_…, mir_…), a (chart)
    /// customization's name or a mirror's destination.
    pub owner: String,
    /// At most this many, newest first.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    pub owner: String,
    /// The build (or sync) number.
    pub number: u64,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    pub owner: String,
    pub number: u64,
    /// Keep printing the log as the run writes it, until it ends (exit 1 when it failed).
    #[arg(short, long)]
    pub follow: bool,
    /// Give up following after this long (e.g. 90s, 30m).
    #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = parse_timeout)]
    pub timeout: Duration,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct RebuildArgs {
    pub owner: String,
    /// Wait for the build to end; exit 1 when it failed.
    #[arg(short, long)]
    pub wait: bool,
    /// Give up waiting after this long (the build goes on).
    #[arg(long, value_name = "DURATION", default_value = "60m", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// No progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn run(command: Command) -> u8 {
    match command {
        Command::List(a) => super::run(&a.conn, |c| list(c, &a.owner, a.limit)),
        Command::Get(a) => super::run(&a.conn, |c| get(c, &a.owner, a.number)),
        Command::Logs(a) => super::run(&a.conn, |c| logs(c, &a)),
        Command::Rebuild(a) => super::run(&a.conn, |c| rebuild(c, &a)),
    }
}

/// The owner an id or name stands for.
pub fn owner(api: &Api, given: &str) -> Result<Owner, Error> {
    if given.starts_with("cus_") {
        return Ok(Owner::customization(given));
    }
    if given.starts_with("chc_") {
        return Ok(Owner::chart(given));
    }
    if given.starts_with("mir_") {
        return Ok(Owner::mirror(given));
    }
    let by_name = |path: &str, key: &str| -> Result<Option<String>, Error> {
        let list = api.get(&api.org_path(path)?)?;
        Ok(list[key]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == given)
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned))
    };
    if let Some(id) = by_name("/customizations", "customizations")? {
        return Ok(Owner::customization(&id));
    }
    if let Some(id) = by_name("/chart-customizations", "chart_customizations")? {
        return Ok(Owner::chart(&id));
    }
    match super::mirrors::find(api, given) {
        Ok(id) => Ok(Owner::mirror(&id)),
        Err(Error::Api { status: 404, .. }) => Err(Error::Api {
            status: 404,
            code: "not_found".into(),
            message: format!(
                "`{given}` is not the id of a customization (cus_…), chart customization (chc_…) or mirror (mir_…), \
                 the name of a (chart) customization, or a mirror's destination: list them with \
                 `tailor customization list`, `tailor chart list`, `tailor mirror list`"
            ),
            details: vec![],
        }),
        Err(e) => Err(e),
    }
}

/// A build's or sync's row: number, status, what it made, when and how long.
pub fn row(b: &Value) -> Vec<String> {
    let (tag, digest) = if b["outputs"]["tag"].is_string() {
        (cell(&b["outputs"]["tag"]), short_digest(&b["outputs"]["index_digest"]))
    } else if let Some(versions) = b["outputs"]["versions"].as_array() {
        let tags: Vec<String> = versions.iter().filter_map(|v| v["tag"].as_str().map(str::to_owned)).collect();
        (if tags.is_empty() { "-".into() } else { tags.join(",") }, "-".into())
    } else if let Some(tags) = b["tags"].as_array().filter(|t| !t.is_empty()) {
        let count = |a: &str| tags.iter().filter(|t| t["action"] == a).count();
        let summary = format!("{} copied, {} unchanged", count("copied"), count("unchanged"));
        let bad = count("refused") + count("failed");
        (if bad > 0 { format!("{summary}, {bad} refused or failed") } else { summary }, "-".into())
    } else {
        ("-".into(), "-".into())
    };
    vec![
        cell(&b["number"]),
        cell(&b["status"]),
        cell(&b["revision"]),
        tag,
        digest,
        cell(&b["started_at"]),
        duration(&b["started_at"], &b["finished_at"]),
        cell(&b["reason"]),
    ]
}

pub const HEADERS: [&str; 8] = ["NUMBER", "STATUS", "REVISION", "RESULT", "DIGEST", "STARTED", "DURATION", "REASON"];

fn list(c: &Conn, given: &str, limit: Option<u32>) -> Result<(), Error> {
    let api = c.api()?;
    let o = owner(&api, given)?;
    let mut path = o.runs(&api)?;
    if let Some(n) = limit {
        path.push_str(&format!("?limit={n}"));
    }
    let answer = api.get(&path)?;
    let key = format!("{}s", o.noun);
    print(c, &answer, |a| table_of(&a[key.as_str()], &HEADERS, &format!("No {}s.", o.noun), row));
    Ok(())
}

fn get(c: &Conn, given: &str, number: u64) -> Result<(), Error> {
    let api = c.api()?;
    let o = owner(&api, given)?;
    let answer = api.get(&format!("{}/{number}", o.runs(&api)?))?;
    print(c, &answer, tailor_client::render::details);
    Ok(())
}

fn logs(c: &Conn, a: &LogsArgs) -> Result<(), Error> {
    let api = c.api()?;
    let o = owner(&api, &a.owner)?;
    if a.follow {
        let mut out = std::io::stdout();
        wait(&api, &o, a.number, a.timeout, true, Some(&mut out))?;
        return Ok(());
    }
    let text = api.get_text(&format!("{}/{}/log", o.runs(&api)?, a.number))?;
    print!("{text}");
    Ok(())
}

fn rebuild(c: &Conn, a: &RebuildArgs) -> Result<(), Error> {
    let api = c.api()?;
    let o = owner(&api, &a.owner)?;
    let queued = api.send("POST", &o.runs(&api)?, None, None)?.json()?;
    let number = queued["number"].as_u64().unwrap_or_default();
    super::progress(
        a.quiet,
        &format!("{} {} {number} queued ({} request(s))", o.id, o.noun, cell(&queued["requests"])),
    );
    let result = if a.wait { wait(&api, &o, number, a.timeout, a.quiet, None)? } else { queued };
    print(c, &result, |b| {
        let mut t = tailor_client::Table::new(&HEADERS);
        t.row(row(b));
        t.render()
    });
    Ok(())
}
