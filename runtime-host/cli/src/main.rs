//! `tailor`: customize hardened container images.

mod artifact;
mod build;
mod chart;
mod key;
mod mirror;
mod packages;
mod service;
mod signing;
mod store;
mod token;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "tailor",
    version,
    about = "Customize hardened container images: reproducible, layer-merging builds pushed to your registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a customization file and push the result under `<tag>_<suffix>`.
    Build(build::Args),
    /// Make and push artifact images (files to layer into customizations).
    #[command(subcommand)]
    Artifact(artifact::Command),
    /// Run the service: the API and webhook functions over HTTP, and the build worker.
    Up(service::UpArgs),
    /// Run a build worker alone (claims builds from the store of `tailor up`).
    Worker(service::WorkerArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::Command),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(key::Command),
    /// Verify an image's signatures (the index and every platform manifest) with a public key.
    Verify(verify::VerifyArgs),
    /// Mirror upstream repositories (images, charts, any OCI artifact) byte for byte.
    #[command(subcommand)]
    Mirror(mirror::Command),
    /// Customize Helm charts: map their image references to the org's images.
    #[command(subcommand)]
    Chart(chart::Command),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable lines.
    Text,
    /// Exactly one JSON object on stdout.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Artifact(artifact::Command::Push(args)) => artifact::push(args),
        Command::Up(args) => report(service::up(args)),
        Command::Worker(args) => report(service::worker(args)),
        Command::Token(token::Command::Create(args)) => report(token::create(args)),
        Command::Key(key::Command::Generate(args)) => report(key::generate(args)),
        Command::Mirror(mirror::Command::Copy(args)) => mirror::copy(args),
        Command::Chart(chart::Command::Build(args)) => chart::build(args),
        Command::Verify(args) => {
            let json = args.output == Output::Json;
            match verify::run(args) {
                Ok(()) => 0,
                Err(e) => {
                    if json {
                        println!("{}", serde_json::json!({"verified": false, "error": format!("{e:#}")}));
                    }
                    eprintln!("error: {e:#}");
                    1
                }
            }
        }
    };
    ExitCode::from(code)
}

fn report(result: anyhow::Result<()>) -> u8 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
