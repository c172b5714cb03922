//! `tailor login`, `tailor logout`, `tailor whoami`.

use std::io::IsTerminal;

use clap::Args;
use serde_json::json;
use tailor_client::login::{config_path, normalize_server, remove, save};
use tailor_client::{Api, Error, Login};

use super::{Conn, OutputFormat, print};

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The service's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "TAILOR_SERVER", value_name = "URL")]
    pub server: String,
    /// The API token (`tailor token create` prints one); `-` reads it from stdin [default: asked
    /// at a terminal, else read from stdin].
    #[arg(long, env = "TAILOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn conn(output: OutputFormat) -> Conn {
    Conn { server: None, token: None, output }
}

fn token_from_stdin() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        eprint!("Token: ");
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Error::Input(format!("reading the token: {e}")))?;
    Ok(line.trim().to_owned())
}

/// Checks the token against the server (`GET /v1/token`) and saves both.
pub fn login(args: LoginArgs) -> u8 {
    super::run(&conn(args.output), |c| {
        let server = normalize_server(&args.server)?;
        let token = match args.token.as_deref() {
            None | Some("-") => token_from_stdin()?,
            Some(t) => t.trim().to_owned(),
        };
        if token.is_empty() {
            return Err(Error::Input("no token given: pass --token TOKEN (or - to read it from stdin)".into()));
        }
        let login = Login { server: server.clone(), token };
        let api = Api::new(login.clone());
        let who = api.token_info()?.clone();
        let path = config_path(|k| std::env::var(k).ok()).ok_or_else(|| {
            Error::Input("nowhere to save the login: set HOME, XDG_CONFIG_HOME or TAILOR_CONFIG".into())
        })?;
        save(&path, &login)?;
        let answer = json!({"server": server, "org": who["org"], "role": who["role"], "name": who["name"],
                             "saved": path.display().to_string()});
        print(c, &answer, |a| {
            format!(
                "Signed in to {} as {} of org {} ({}); saved in {}\n",
                a["server"].as_str().unwrap_or_default(),
                a["role"].as_str().unwrap_or_default(),
                a["org"].as_str().unwrap_or_default(),
                a["name"].as_str().unwrap_or_default(),
                a["saved"].as_str().unwrap_or_default()
            )
        });
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Forgets the saved login.
pub fn logout(args: LogoutArgs) -> u8 {
    super::run(&conn(args.output), |c| {
        let path = config_path(|k| std::env::var(k).ok())
            .ok_or_else(|| Error::Input("no login file: HOME, XDG_CONFIG_HOME and TAILOR_CONFIG are unset".into()))?;
        let removed = remove(&path)?;
        print(c, &json!({"signed_out": removed, "file": path.display().to_string()}), |_| {
            if removed { "Signed out.\n".into() } else { "Not signed in.\n".into() }
        });
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub conn: Conn,
}

/// The org, role and name of the token in use.
pub fn whoami(args: WhoamiArgs) -> u8 {
    super::run(&args.conn, |c| {
        let api = c.api()?;
        let mut who = api.token_info()?.clone();
        who["server"] = json!(api.server());
        print(c, &who, tailor_client::render::details);
        Ok(())
    })
}
