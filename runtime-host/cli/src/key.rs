//! `tailor key generate`: an ECDSA P-256 signing key pair for signatures and attestations.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use tailor_sign::{PrivateKey, write_key_pair};

use crate::Output;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write DIR/tailor.key (PKCS#8 PEM, mode 0600) and DIR/tailor.pub (SPKI PEM).
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Directory for the key pair (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing key pair there.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub fn generate(args: GenerateArgs) -> Result<()> {
    let key = PrivateKey::generate()?;
    let (private, public) = write_key_pair(&key, &args.out, args.force)?;
    let fingerprint = key.public().fingerprint();
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::json!({"private_key": private, "public_key": public, "fingerprint": fingerprint})
        ),
        Output::Text => {
            println!("private key: {} (keep it secret; mode 0600)", private.display());
            println!("public key:  {} (give it to whoever verifies your images)", public.display());
            println!("fingerprint: {fingerprint}");
        }
    }
    Ok(())
}
