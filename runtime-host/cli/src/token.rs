//! `tailor token create`: an org-scoped API token, stored hashed; the secret is shown once.

use std::io::Read;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tailor_store::{Role, block_on, create_token};

use crate::Output;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a token for an org and print it (the secret alone on the last line of stdout).
    Create(CreateArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The org (registry namespace) the token acts in.
    #[arg(long)]
    pub org: String,
    /// `owner` (everything, including deleting customizations) or `member`.
    #[arg(long, default_value = "member")]
    pub role: String,
    /// A name to recognize the token by (shown in build reasons).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub store: crate::service::DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn valid_org(org: &str) -> bool {
    !org.is_empty()
        && org.len() <= 128
        && org.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && org.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

pub fn create(args: CreateArgs) -> Result<()> {
    if !valid_org(&args.org) {
        bail!("--org {:?}: an org is a registry namespace: lowercase letters, digits, '.', '_' and '-'", args.org);
    }
    let Some(role) = Role::parse(&args.role) else { bail!("--role {:?}: use owner or member", args.role) };
    let db = args.store.open()?;
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("reading /dev/urandom")?;
    let secret = format!("tlr_{}", hex::encode(bytes));
    let name = args.name.unwrap_or_else(|| format!("{}-{}", args.org, role.as_str()));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64)?;
    block_on(create_token(&db, &secret, &args.org, role, &name, now))?;
    match args.output {
        Output::Json => {
            println!("{}", serde_json::json!({"org": args.org, "role": role.as_str(), "name": name, "token": secret}))
        }
        Output::Text => {
            eprintln!("token {name:?} for org {} (role {}); it is shown only now:", args.org, role.as_str());
            println!("{secret}");
        }
    }
    Ok(())
}
