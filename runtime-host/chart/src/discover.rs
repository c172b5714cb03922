//! Finding the image references a chart deploys by parsing its values — never by key names:
//! strings that are image references, and maps of the common shapes (`{registry, repository,
//! tag, digest}` as Bitnami writes them, `{repository, tag}` with the host inside `repository`,
//! `tag` holding `tag@digest`); the images Chart.yaml annotations list; and images written
//! literally in templates (which cannot be rewritten safely: they are reported).

use crate::reference::ImageRef;
use crate::yaml::{Node, Scalar};

/// Where a reference was found and how it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One string holds the whole reference.
    String(Scalar),
    /// A map of fields (`repository` always; the others when present).
    Map { registry: Option<Scalar>, repository: Scalar, tag: Option<Scalar>, digest: Option<Scalar> },
}

/// A reference found in values.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The values path: `image`, `sidecars[0].image`, `global.x`.
    pub path: String,
    pub reference: ImageRef,
    pub shape: Shape,
}

impl Found {
    pub fn line(&self) -> usize {
        match &self.shape {
            Shape::String(s) => s.line,
            Shape::Map { repository, .. } => repository.line,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// Every reference in a values document (`plausible`: keep strings that are image references
/// only if they look like one, or are matched by `wanted`).
pub fn find(root: &Node, wanted: &dyn Fn(&ImageRef) -> bool) -> Vec<Found> {
    let mut out = Vec::new();
    walk(root, "", wanted, &mut out);
    out
}

fn walk(node: &Node, path: &str, wanted: &dyn Fn(&ImageRef) -> bool, out: &mut Vec<Found>) {
    match node {
        Node::Map(entries) => {
            if let Some(found) = image_map(node, path) {
                out.push(found);
                // The map's own fields are its parts, not references; other children are walked.
                for (k, v) in entries {
                    let key = k.as_str().unwrap_or_default();
                    if !matches!(key, "registry" | "repository" | "tag" | "digest") {
                        walk(v, &join(path, key), wanted, out);
                    }
                }
                return;
            }
            for (k, v) in entries {
                walk(v, &join(path, k.as_str().unwrap_or("?")), wanted, out);
            }
        }
        Node::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), wanted, out);
            }
        }
        Node::Scalar(s) => {
            if let Some(r) = ImageRef::parse(s.value.trim())
                && s.value.trim() == s.value
                && (r.is_plausible() || wanted(&r))
            {
                out.push(Found { path: path.to_owned(), reference: r, shape: Shape::String(s.clone()) });
            }
        }
        Node::Alias => {}
    }
}

/// A map `{repository, …}` with at least one of `registry`, `tag`, `digest`, whose parts make an
/// image reference (a `repository` holding a git URL does not).
fn image_map(node: &Node, path: &str) -> Option<Found> {
    let repository = node.get("repository")?.scalar()?.clone();
    let field = |name: &str| node.get(name).and_then(Node::scalar).cloned();
    let (registry, tag, digest) = (field("registry"), field("tag"), field("digest"));
    if registry.is_none() && tag.is_none() && digest.is_none() {
        return None;
    }
    let mut text = String::new();
    if let Some(r) = registry.as_ref().filter(|r| !r.value.is_empty()) {
        text.push_str(&r.value);
        text.push('/');
    }
    text.push_str(&repository.value);
    if let Some(t) = tag.as_ref().filter(|t| !t.value.is_empty()) {
        text.push(':');
        text.push_str(&t.value);
    }
    if let Some(d) = digest.as_ref().filter(|d| !d.value.is_empty()) {
        if text.contains('@') {
            return None;
        }
        text.push('@');
        text.push_str(&d.value);
    }
    let reference = ImageRef::parse(&text)?;
    Some(Found { path: path.to_owned(), reference, shape: Shape::Map { registry, repository, tag, digest } })
}

/// The image references of an images annotation (`artifacthub.io/images` and the like): a YAML
/// list of `{name, image}` maps or of strings.
pub fn annotation_images(value: &str) -> Vec<String> {
    let Ok(list) = serde_yaml::from_str::<serde_yaml::Value>(value) else { return Vec::new() };
    list.as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|item| match item {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Mapping(m) => m.get("image").and_then(|i| i.as_str()).map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// Images written literally in a template (`image: nginx:1.25`, not `{{ … }}`): (line, reference).
pub fn literal_images(template: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in template.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let Some(rest) = t.strip_prefix("image:") else { continue };
        let value = rest.split(" #").next().unwrap_or_default().trim().trim_matches(|c| c == '"' || c == '\'');
        if value.is_empty() || value.contains("{{") {
            continue;
        }
        if ImageRef::parse(value).is_some() {
            out.push((i + 1, value.to_owned()));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    const VALUES: &str = "
global:
  imageRegistry: docker.io
image:
  registry: docker.io
  repository: bitnami/nginx
  tag: 1.25.3-debian-12-r0
  digest: ''
  pullPolicy: IfNotPresent
metrics:
  image:
    repository: quay.io/prometheus/nginx-exporter
    tag: 'v1.1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
initContainers:
  - name: wait
    image: busybox:1.36
git:
  repository: https://github.com/acme/repo.git
  tag: main
service:
  type: ClusterIP
  name: nginx
sidecar: registry.example:5000/team/agent
";

    #[test]
    fn finds_strings_and_maps_but_not_lookalikes() {
        let root = parse(VALUES).unwrap().unwrap();
        let found = find(&root, &|_| false);
        let seen: Vec<(&str, String)> = found.iter().map(|f| (f.path.as_str(), f.reference.to_string())).collect();
        assert_eq!(
            seen,
            [
                ("image", "docker.io/bitnami/nginx:1.25.3-debian-12-r0".to_owned()),
                ("metrics.image", format!("quay.io/prometheus/nginx-exporter:v1.1@sha256:{}", "a".repeat(64))),
                ("initContainers[0].image", "busybox:1.36".to_owned()),
                ("sidecar", "registry.example:5000/team/agent".to_owned()),
            ],
            "git.repository is a URL, service.name a bare word, global.imageRegistry a host"
        );
        let nginx = find(&root, &|r| r.path == "nginx");
        assert!(nginx.iter().any(|f| f.path == "service.name"), "a bare word is kept when a `from` names it");
        assert!(matches!(&found[0].shape, Shape::Map { registry: Some(_), digest: Some(_), .. }));
        assert_eq!(found[2].line(), 16);
    }

    #[test]
    fn annotations_and_templates() {
        let a = "- name: nginx\n  image: docker.io/bitnami/nginx:1.25\n- name: exporter\n  image: quay.io/x/y:v1\n- busybox:1.36\n";
        assert_eq!(annotation_images(a), ["docker.io/bitnami/nginx:1.25", "quay.io/x/y:v1", "busybox:1.36"]);
        assert!(annotation_images("not: a list").is_empty());
        let t = "spec:\n  containers:\n    - name: a\n      image: \"nginx:1.25\"\n    - image: {{ .Values.image }}\n    - image: '{{ include \"x\" . }}'\n";
        assert_eq!(literal_images(t), [(4, "nginx:1.25".to_owned())]);
    }
}
