//! The client of a running service (`tailor login`, `customization`, `builds`, `mirror …`,
//! `chart …`, `repository`, `packages`): flags and environment to a login, requests through
//! `tailor-client`, answers printed as tables, JSON or YAML, failures as the API's field paths
//! with exit statuses scripts can tell apart (see `EXIT_STATUSES`).

pub mod builds;
pub mod catalog;
pub mod charts;
pub mod customizations;
pub mod extensions;
pub mod login;
pub mod mirrors;
mod wait;

use std::io::IsTerminal;
use std::path::Path;

use clap::{Args, ValueEnum};
use serde_json::Value;
use tailor_client::api::Body;
use tailor_client::{Api, Error, Exit, Format, Table};

/// The exit statuses of the client commands, for `--help`.
pub const EXIT_STATUSES: &str = "Exit status: 0 done; 1 the build or sync waited for failed; 2 invalid input \
(a flag, a file, or the API refused it: 400, 413, 415, 422); 3 not signed in or not allowed (401, 403); \
4 not found (404); 5 the service failed or could not be reached; 6 changed meanwhile (409, 412): read it again.";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns (one object: `key value` lines), for people.
    Table,
    /// The API's JSON document, unchanged.
    Json,
    /// The same document as YAML.
    Yaml,
}

/// How to reach the service, and how to print: on every client command.
#[derive(Args, Debug, Clone)]
pub struct Conn {
    /// The service's URL, e.g. http://127.0.0.1:8080 [default: the one `tailor login` saved].
    #[arg(long, env = "TAILOR_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The API token [default: the one `tailor login` saved, for its server].
    #[arg(long, env = "TAILOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// How to print the answer.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

impl Conn {
    pub fn format(&self) -> Format {
        match self.output {
            OutputFormat::Table => Format::Table,
            OutputFormat::Json => Format::Json,
            OutputFormat::Yaml => Format::Yaml,
        }
    }

    /// The API with the login these flags, the environment or the saved login give.
    pub fn api(&self) -> Result<Api, Error> {
        let path = tailor_client::login::config_path(|k| std::env::var(k).ok());
        let saved = match &path {
            Some(p) => tailor_client::login::load(p)?.map(|l| (l, p.clone())),
            None => None,
        };
        let (login, _) = tailor_client::login::resolve(self.server.as_deref(), self.token.as_deref(), saved)?;
        Ok(Api::new(login))
    }
}

/// Runs a client command: prints its failure (as JSON on stdout with `--output json|yaml`,
/// always as text on stderr) and returns the exit status.
pub fn run(conn: &Conn, f: impl FnOnce(&Conn) -> Result<(), Error>) -> u8 {
    match f(conn) {
        Ok(()) => Exit::Ok as u8,
        Err(e) => {
            match conn.format() {
                Format::Json => print!("{}", tailor_client::render::json(&e.to_json())),
                Format::Yaml => print!("{}", tailor_client::render::yaml(&e.to_json())),
                Format::Table => {}
            }
            eprintln!("{}", e.to_text());
            e.exit() as u8
        }
    }
}

/// Prints `value`: as is for json/yaml, else what `table` makes of it.
pub fn print(conn: &Conn, value: &Value, table: impl FnOnce(&Value) -> String) {
    match conn.format() {
        Format::Json => print!("{}", tailor_client::render::json(value)),
        Format::Yaml => print!("{}", tailor_client::render::yaml(value)),
        Format::Table => print!("{}", table(value)),
    }
}

/// A table of `items` (an array in the answer), or a line saying there are none.
pub fn table_of(items: &Value, headers: &[&str], none: &str, row: impl Fn(&Value) -> Vec<String>) -> String {
    let mut t = Table::new(headers);
    for item in items.as_array().into_iter().flatten() {
        t.row(row(item));
    }
    if t.is_empty() { format!("{none}\n") } else { t.render() }
}

/// Progress for people (stderr, only when it is a terminal or asked for).
pub fn progress(quiet: bool, line: &str) {
    if !quiet {
        eprintln!("{line}");
    }
}

/// A spec file (`-` for stdin) as a request body: JSON when the name ends in `.json` or the
/// text starts with `{`, else YAML (the API parses and validates either, naming the fields).
pub fn spec_body(file: &Path) -> Result<Body, Error> {
    let text = if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Error::Input(format!("reading the spec from stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| Error::Input(format!("-f {}: {e}", file.display())))?
    };
    if text.trim().is_empty() {
        return Err(Error::Input(format!("-f {}: the file is empty", file.display())));
    }
    let json = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) || text.trim_start().starts_with('{');
    Ok(if json { Body { content_type: "application/json", bytes: text.into_bytes() } } else { Body::yaml(text) })
}

/// A JSON merge patch given as text (`{"name": "b"}`), `@FILE` or `-` (stdin).
pub fn patch_body(patch: &str) -> Result<Body, Error> {
    let text = match patch {
        "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| Error::Input(format!("reading the patch from stdin: {e}")))?;
            s
        }
        p if p.starts_with('@') => {
            std::fs::read_to_string(&p[1..]).map_err(|e| Error::Input(format!("--patch {p}: {e}")))?
        }
        p => p.to_owned(),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("--patch: not JSON ({e}); e.g. --patch '{{\"tag_suffix\": \"fips\"}}'")))?;
    if !value.is_object() {
        return Err(Error::Input("--patch: a JSON merge patch is an object, e.g. {\"name\": \"b\"}".into()));
    }
    Ok(Body::merge_patch(&value))
}

/// Asks for the name to be typed before deleting (a terminal), or requires `--yes`.
pub fn confirm_delete(what: &str, name: &str, yes: bool) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Input(format!("deleting {what} `{name}` needs --yes when not asked at a terminal")));
    }
    eprint!("Delete {what} `{name}`? Type its name to confirm: ");
    let mut typed = String::new();
    std::io::stdin().read_line(&mut typed).map_err(|e| Error::Input(format!("reading the confirmation: {e}")))?;
    if typed.trim() != name {
        return Err(Error::Input(format!("not deleted: `{}` is not `{name}`", typed.trim())));
    }
    Ok(())
}

/// `"rev"` for an `If-Match` header.
/// The id of the item of the org's `collection` (`/v1/orgs/{org}/COLLECTION`) whose `field` is
/// `value`; a 404 saying `missing` when none is.
pub fn id_by(api: &Api, collection: &str, field: &str, value: &str, missing: String) -> Result<String, Error> {
    let list = api.get(&api.org_path(&format!("/{collection}"))?)?;
    list[collection]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x[field] == value)
        .and_then(|x| x["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::Api { status: 404, code: "not_found".into(), message: missing, details: vec![] })
}

pub fn if_match(revision: Option<u64>) -> Option<String> {
    revision.map(|r| format!("\"{r}\""))
}
