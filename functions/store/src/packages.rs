//! OS packages: which variant (`debian:bookworm`/`amd64`, `alpine:3.20`/`x86_64`) each image
//! tag's platforms are, and each variant's catalog of installable packages — kept by the
//! workers (who read bases and repositories), searched by the API, and the trigger of
//! rebuilds when a repository publishes.

use crate::db::{Db, in_tx};
use crate::error::Result;

/// One platform of an image tag and its OS variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageVariant {
    pub platform: String,
    pub variant: String,
    pub arch: String,
}

/// Records that `repository:tag`'s `platform` is `variant` (`arch`).
pub async fn record_variant<D: Db>(db: &D, repository: &str, tag: &str, v: &ImageVariant, now: i64) -> Result<()> {
    db.exec(
        "INSERT INTO image_variants (repository, tag, platform, variant, arch, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (repository, tag, platform) DO UPDATE SET variant = excluded.variant, arch = excluded.arch, \
         updated_at = excluded.updated_at",
        &[
            repository.into(),
            tag.into(),
            v.platform.as_str().into(),
            v.variant.as_str().into(),
            v.arch.as_str().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The variants of `repository:tag`'s platforms, by platform.
pub async fn variants_of<D: Db>(db: &D, repository: &str, tag: &str) -> Result<Vec<ImageVariant>> {
    let rows = db
        .exec(
            "SELECT platform, variant, arch FROM image_variants WHERE repository = ? AND tag = ? ORDER BY platform",
            &[repository.into(), tag.into()],
        )
        .await?;
    rows.iter()
        .map(|r| Ok(ImageVariant { platform: r.text("platform")?, variant: r.text("variant")?, arch: r.text("arch")? }))
        .collect()
}

/// Every (variant, arch) some image is known to be.
pub async fn known_variants<D: Db>(db: &D) -> Result<Vec<(String, String)>> {
    let rows = db.exec("SELECT DISTINCT variant, arch FROM image_variants ORDER BY variant, arch", &[]).await?;
    rows.iter().map(|r| Ok((r.text("variant")?, r.text("arch")?))).collect()
}

/// A variant's catalog as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageIndex {
    /// Identity of the repositories' indexes it was read from.
    pub digest: String,
    pub packages: i64,
    pub updated_at: i64,
}

pub async fn package_index<D: Db>(db: &D, variant: &str, arch: &str) -> Result<Option<PackageIndex>> {
    let rows = db
        .exec(
            "SELECT digest, packages, updated_at FROM package_indexes WHERE variant = ? AND arch = ?",
            &[variant.into(), arch.into()],
        )
        .await?;
    rows.first()
        .map(|r| {
            Ok(PackageIndex {
                digest: r.text("digest")?,
                packages: r.int("packages")?,
                updated_at: r.int("updated_at")?,
            })
        })
        .transpose()
}

/// One installable package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPackage {
    pub name: String,
    pub version: String,
    pub summary: String,
}

/// What [`replace_packages`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogUpdate {
    /// The digest before (None: the variant's first catalog).
    pub previous: Option<String>,
    /// The indexes changed since the last read.
    pub changed: bool,
    /// (customization id, build number) of the builds queued or joined because they changed.
    pub builds: Vec<(String, i64)>,
}

/// Makes `packages` the catalog of `variant`/`arch`, read from indexes `digest`, in one
/// transaction. When the indexes changed since an earlier read, every customization that
/// installs OS packages on an image of this variant is queued (`delay_ms` debounce): its
/// build resolves the packages again and is skipped when none of its versions moved.
pub async fn replace_packages<D: Db>(
    db: &D,
    variant: &str,
    arch: &str,
    digest: &str,
    packages: &[CatalogPackage],
    now: i64,
    delay_ms: i64,
) -> Result<CatalogUpdate> {
    in_tx(db, async |db| {
        let previous = package_index(db, variant, arch).await?.map(|i| i.digest);
        if previous.as_deref() == Some(digest) {
            db.exec(
                "UPDATE package_indexes SET updated_at = ? WHERE variant = ? AND arch = ?",
                &[now.into(), variant.into(), arch.into()],
            )
            .await?;
            return Ok(CatalogUpdate { previous, changed: false, builds: Vec::new() });
        }
        db.exec("DELETE FROM packages WHERE variant = ? AND arch = ?", &[variant.into(), arch.into()]).await?;
        for p in packages {
            db.exec(
                "INSERT INTO packages (variant, arch, name, version, summary) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (variant, arch, name) DO UPDATE SET version = excluded.version, summary = excluded.summary",
                &[
                    variant.into(),
                    arch.into(),
                    p.name.as_str().into(),
                    p.version.as_str().into(),
                    p.summary.as_str().into(),
                ],
            )
            .await?;
        }
        db.exec(
            "INSERT INTO package_indexes (variant, arch, digest, packages, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (variant, arch) DO UPDATE SET digest = excluded.digest, packages = excluded.packages, \
             updated_at = excluded.updated_at",
            &[variant.into(), arch.into(), digest.into(), (packages.len() as i64).into(), now.into()],
        )
        .await?;
        let mut builds = Vec::new();
        if previous.is_some() {
            let reason = format!("package repositories of {variant} ({arch}) published");
            for id in installing_on(db, variant, arch).await? {
                let b = crate::queue::enqueue_in(db, &id, &reason, now, delay_ms).await?;
                builds.push((id, b.number));
            }
        }
        Ok(CatalogUpdate { previous, changed: true, builds })
    })
    .await
}

/// Customizations that install OS packages on a source whose variant is `variant`/`arch`.
async fn installing_on<D: Db>(db: &D, variant: &str, arch: &str) -> Result<Vec<String>> {
    let rows = db
        .exec(
            "SELECT DISTINCT c.id AS id, c.spec AS spec FROM customizations c \
             JOIN dependencies d ON d.customization_id = c.id AND d.role = 'source' \
             JOIN image_variants v ON v.repository = d.repository AND v.tag = d.tag \
             WHERE v.variant = ? AND v.arch = ? ORDER BY c.id",
            &[variant.into(), arch.into()],
        )
        .await?;
    let mut ids = Vec::new();
    for r in rows.iter() {
        let spec: serde_json::Value = serde_json::from_str(&r.text("spec")?).unwrap_or_default();
        if spec["contents"]["packages"].as_array().is_some_and(|p| !p.is_empty()) {
            ids.push(r.text("id")?);
        }
    }
    Ok(ids)
}

/// A page of [`search_packages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageMatches {
    pub packages: Vec<CatalogPackage>,
    /// How many match in all.
    pub total: i64,
}

/// `\`-escapes the `LIKE` wildcards in `s`.
fn like_escaped(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// Packages of `variant`/`arch` whose name or summary contains `query` (any case; all when
/// empty): the exact name first, then names starting with it, then the rest, each by name.
pub async fn search_packages<D: Db>(
    db: &D,
    variant: &str,
    arch: &str,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<PackageMatches> {
    let q = query.to_lowercase();
    let contains = format!("%{}%", like_escaped(&q));
    let prefix = format!("{}%", like_escaped(&q));
    let filter = "variant = ? AND arch = ? AND (LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(summary) LIKE ? ESCAPE '\\')";
    let rows = db
        .exec(
            &format!(
                "SELECT name, version, summary FROM packages WHERE {filter} ORDER BY \
                 CASE WHEN LOWER(name) = ? THEN 0 WHEN LOWER(name) LIKE ? ESCAPE '\\' THEN 1 ELSE 2 END, name \
                 LIMIT ? OFFSET ?"
            ),
            &[
                variant.into(),
                arch.into(),
                contains.as_str().into(),
                contains.as_str().into(),
                q.as_str().into(),
                prefix.into(),
                limit.into(),
                offset.into(),
            ],
        )
        .await?;
    let packages = rows
        .iter()
        .map(|r| Ok(CatalogPackage { name: r.text("name")?, version: r.text("version")?, summary: r.text("summary")? }))
        .collect::<Result<Vec<_>>>()?;
    let count = db
        .exec(
            &format!("SELECT COUNT(*) AS n FROM packages WHERE {filter}"),
            &[variant.into(), arch.into(), contains.as_str().into(), contains.into()],
        )
        .await?;
    let total = count.first().map(|r| r.int("n")).transpose()?.unwrap_or(0);
    Ok(PackageMatches { packages, total })
}
