//! `tailor repository list|tags|files` and `tailor packages`: what the org's registry holds
//! (as the service knows it), an image's file tree, and the packages a source can install.
//! Listings a worker reads on first request are waited for (the API's 404 `not_indexed`).

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::Value;
use tailor_client::api::encode;
use tailor_client::render::{cell, short_digest};
use tailor_client::{Api, Error};

use super::{Conn, print, table_of};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The org's repositories, with their tags and the mirror each comes from.
    #[command(after_help = super::EXIT_STATUSES)]
    List(ListArgs),
    /// A repository's tags: digest, platforms, when last seen.
    #[command(after_help = super::EXIT_STATUSES)]
    Tags(TagsArgs),
    /// The files of an image tag on one platform (one directory at a time).
    #[command(after_help = super::EXIT_STATUSES)]
    Files(FilesArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct TagsArgs {
    /// The repository, e.g. acme/debian (the org may be left out).
    pub repository: String,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct FilesArgs {
    /// The image, REPOSITORY:TAG (e.g. acme/tools:1.4).
    pub image: String,
    /// Which platform, os/arch[/variant] [default: the image's first].
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// The directory to list.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub path: String,
    #[command(flatten)]
    pub conn: Conn,
}

#[derive(Args, Debug)]
pub struct PackagesArgs {
    /// The source image whose OS packages to list, e.g. acme/debian:12.
    #[arg(long, value_name = "IMAGE")]
    pub source: String,
    /// Only packages whose name or summary contains this text.
    #[arg(short = 'q', long = "query", value_name = "TEXT")]
    pub query: Option<String>,
    /// Which platform's packages [default: linux/amd64 when the image has it].
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// How many to list (1 to 500).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// How many matches to skip.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u32,
    #[command(flatten)]
    pub conn: Conn,
}

pub fn run(command: Command) -> u8 {
    match command {
        Command::List(a) => super::run(&a.conn, repositories),
        Command::Tags(a) => super::run(&a.conn, |c| tags(c, &a.repository)),
        Command::Files(a) => super::run(&a.conn, |c| files(c, &a)),
    }
}

/// The repository name under the org (`acme/team/app` and `team/app` are both `team/app`).
fn name_in_org(api: &Api, repository: &str) -> Result<String, Error> {
    let org = api.org()?;
    let name = repository.strip_prefix(&format!("{org}/")).unwrap_or(repository);
    if name.is_empty() {
        return Err(Error::Input(format!("`{repository}` names no repository")));
    }
    Ok(name.to_owned())
}

/// `REPOSITORY:TAG` → (name under the org, tag).
pub fn split_tag(api: &Api, image: &str) -> Result<(String, String), Error> {
    let (repository, tag) = image
        .rsplit_once(':')
        .filter(|(r, t)| !r.is_empty() && !t.is_empty() && !t.contains('/'))
        .ok_or_else(|| Error::Input(format!("`{image}`: give REPOSITORY:TAG, e.g. acme/tools:1.4")))?;
    Ok((name_in_org(api, repository)?, tag.to_owned()))
}

/// GETs `rest` (under the org), waiting while a worker reads it (404 `not_indexed`).
pub fn listing(api: &Api, rest: &str) -> Result<Value, Error> {
    let path = api.org_path(rest)?;
    let start = Instant::now();
    let mut said = false;
    loop {
        match api.get(&path) {
            Err(Error::Api { status: 404, code, message, .. })
                if code == "not_indexed" && start.elapsed() < Duration::from_secs(180) =>
            {
                if !said {
                    eprintln!("{message}");
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

fn repositories(c: &Conn) -> Result<(), Error> {
    let api = c.api()?;
    let answer = api.get(&api.org_path("/repositories")?)?;
    print(c, &answer, |a| {
        table_of(&a["repositories"], &["REPOSITORY", "TAGS", "MIRROR OF"], "No repositories.", |r| {
            let tags: Vec<String> = r["tags"].as_array().into_iter().flatten().map(|t| cell(&t["tag"])).collect();
            let shown = if tags.len() > 8 {
                format!("{} … ({} tags)", tags[..8].join(","), tags.len())
            } else {
                tags.join(",")
            };
            vec![
                cell(&r["repository"]),
                if shown.is_empty() { "-".into() } else { shown },
                cell(&r["mirror"]["source"]),
            ]
        })
    });
    Ok(())
}

fn tags(c: &Conn, repository: &str) -> Result<(), Error> {
    let api = c.api()?;
    let name = name_in_org(&api, repository)?;
    let answer = api.get(&api.org_path(&format!("/repositories/{}/tags", encode(&name, true)))?)?;
    print(c, &answer, |a| {
        table_of(&a["tags"], &["TAG", "DIGEST", "PLATFORMS", "UPDATED"], "No tags.", |t| {
            vec![cell(&t["tag"]), short_digest(&t["digest"]), cell(&t["platforms"]), cell(&t["updated_at"])]
        })
    });
    Ok(())
}

fn files(c: &Conn, a: &FilesArgs) -> Result<(), Error> {
    let api = c.api()?;
    let (name, tag) = split_tag(&api, &a.image)?;
    let mut rest = format!(
        "/repositories/{}/tags/{}/files?path={}",
        encode(&name, true),
        encode(&tag, false),
        encode(&a.path, true)
    );
    if let Some(p) = &a.platform {
        rest.push_str(&format!("&platform={}", encode(p, true)));
    }
    let answer = listing(&api, &rest)?;
    print(c, &answer, |l| {
        let mut out = table_of(&l["entries"], &["KIND", "SIZE", "PATH"], "No files here.", |e| {
            let path = match e["target"].as_str() {
                Some(t) => format!("{} -> {t}", cell(&e["path"])),
                None => cell(&e["path"]),
            };
            vec![cell(&e["kind"]), cell(&e["size"]), path]
        });
        if l["truncated"] == true {
            out.push_str(&format!("(the listing is truncated: the image has {} paths)\n", cell(&l["total"])));
        }
        out
    });
    Ok(())
}

pub fn packages(a: PackagesArgs) -> u8 {
    super::run(&a.conn, |c| {
        let api = c.api()?;
        let mut rest = format!("/packages?source={}&limit={}&offset={}", encode(&a.source, true), a.limit, a.offset);
        if let Some(q) = &a.query {
            rest.push_str(&format!("&q={}", encode(q, false)));
        }
        if let Some(p) = &a.platform {
            rest.push_str(&format!("&platform={}", encode(p, true)));
        }
        let answer = listing(&api, &rest)?;
        print(c, &answer, |l| {
            let mut out = table_of(&l["packages"], &["NAME", "VERSION", "SUMMARY"], "No packages match.", |p| {
                vec![cell(&p["name"]), cell(&p["version"]), cell(&p["summary"])]
            });
            let shown = l["packages"].as_array().map_or(0, Vec::len);
            out.push_str(&format!(
                "({shown} of {} in {} {})\n",
                cell(&l["total"]),
                cell(&l["variant"]),
                cell(&l["arch"])
            ));
            out
        });
        Ok(())
    })
}
