//! `tailor`: customize hardened container images.

mod artifact;
mod build;
mod store;

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
    };
    ExitCode::from(code)
}
