//! `tailor`: customize hardened container images.

mod artifact;
mod build;
mod chart;
mod client;
mod embedded;
mod extension;
mod key;
mod mirror;
mod ops;
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
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TAILOR_COMMIT"), ")"),
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
    /// Run the API and webhook functions without workers (stateless: run any number, e.g. on
    /// one PostgreSQL behind a load balancer).
    Serve(service::ServeArgs),
    /// Run build workers alone (they claim builds from the store of `tailor up` or `tailor serve`).
    Worker(service::WorkerArgs),
    /// Bring the store's schema up to this tailor's version (every process also does on start).
    Migrate(service::MigrateArgs),
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
    /// Sign in to a running service: check the token and save it with the server's URL.
    #[command(after_help = client::EXIT_STATUSES)]
    Login(client::login::LoginArgs),
    /// Forget the saved login.
    Logout(client::login::LogoutArgs),
    /// The org, role and name of the token in use.
    #[command(after_help = client::EXIT_STATUSES)]
    Whoami(client::login::WhoamiArgs),
    /// Customizations in the service: list, get, create, edit, copy, delete.
    #[command(subcommand, visible_alias = "customizations")]
    Customization(client::customizations::Command),
    /// Builds of a customization or chart customization (and syncs of a mirror) in the service.
    #[command(subcommand)]
    Builds(client::builds::Command),
    /// The org's repositories and tags as the service knows them, and an image's files.
    #[command(subcommand, visible_alias = "repositories")]
    Repository(client::catalog::Command),
    /// The OS packages a source image can install (the package catalog of its OS).
    #[command(after_help = client::EXIT_STATUSES)]
    Packages(client::catalog::PackagesArgs),
    /// Org policy extensions: push and test components; register them in the service.
    #[command(subcommand)]
    Extension(extension::Command),
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
        Command::Serve(args) => report(service::serve(args)),
        Command::Worker(args) => report(service::worker(args)),
        Command::Migrate(args) => report(service::migrate(args)),
        Command::Token(token::Command::Create(args)) => report(token::create(args)),
        Command::Key(key::Command::Generate(args)) => report(key::generate(args)),
        Command::Mirror(command) => match command {
            mirror::Command::Copy(args) => mirror::copy(args),
            mirror::Command::List(a) => client::mirrors::list(a),
            mirror::Command::Get(a) => client::mirrors::get(a),
            mirror::Command::Create(a) => client::mirrors::create(a),
            mirror::Command::Edit(a) => client::mirrors::edit(a),
            mirror::Command::Delete(a) => client::mirrors::delete(a),
            mirror::Command::Sync(a) => client::mirrors::sync(a),
            mirror::Command::Syncs(a) => client::builds::run(client::builds::Command::List(a)),
            mirror::Command::Logs(a) => client::builds::run(client::builds::Command::Logs(a)),
            mirror::Command::Upstreams(a) => client::mirrors::upstreams(a),
        },
        Command::Chart(command) => match command {
            chart::Command::Build(args) => chart::build(args),
            chart::Command::List(a) => client::charts::list(a),
            chart::Command::Get(a) => client::charts::get(a),
            chart::Command::Create(a) => client::charts::create(a),
            chart::Command::Edit(a) => client::charts::edit(a),
            chart::Command::Delete(a) => client::charts::delete(a),
            chart::Command::References(a) => client::charts::references(a),
        },
        Command::Login(a) => client::login::login(a),
        Command::Logout(a) => client::login::logout(a),
        Command::Whoami(a) => client::login::whoami(a),
        Command::Customization(c) => client::customizations::run(c),
        Command::Builds(c) => client::builds::run(c),
        Command::Repository(c) => client::catalog::run(c),
        Command::Packages(a) => client::catalog::packages(a),
        Command::Extension(command) => match command {
            extension::Command::Push(a) => extension::push(a),
            extension::Command::Test(a) => extension::test(a),
            extension::Command::List(a) => client::extensions::list(a),
            extension::Command::Get(a) => client::extensions::get(a),
            extension::Command::Create(a) => client::extensions::create(a),
            extension::Command::Edit(a) => client::extensions::edit(a),
            extension::Command::Delete(a) => client::extensions::delete(a),
        },
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
