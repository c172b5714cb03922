//! `tailor build` against registries that require credentials: htpasswd (Basic) and a token
//! server (Bearer). Credentials come from TAILOR_REGISTRY_USER/PASSWORD or docker's config.json.

use super::fixtures::*;
use crate::harness::{Registry, RegistryOptions};

fn build_with_auth(options: RegistryOptions) {
    let reg = Registry::start_with(options);
    let (user, pass) = reg.credentials().expect("credentials");
    let (user, pass) = (user.to_string(), pass.to_string());
    let work = tempfile::tempdir().unwrap();
    let base = umoci_image(work.path(), "base", "amd64", &[&base_layer]);
    let art = umoci_image(work.path(), "art", "amd64", &[&artifact_layer1, &artifact_layer2]);
    skopeo_copy(&format!("oci:{base}"), &format!("docker://{}/acme/base:1", reg.host()), Some((&user, &pass)));
    skopeo_copy(&format!("oci:{art}"), &format!("docker://{}/acme/tools:2", reg.host()), Some((&user, &pass)));
    let spec = full_spec(work.path(), "acme/base:1", "acme/tools:2", "linux/amd64");
    let spec_arg = spec.to_str().unwrap();

    // No credentials: refused with a message that says what to do; nothing pushed.
    let o = tailor(&["build", "-f", spec_arg, "--registry", &reg.url(), "--no-cache"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("credentials"), "{}", stderr(&o));

    // From the environment.
    let env = [("TAILOR_REGISTRY_USER", user.as_str()), ("TAILOR_REGISTRY_PASSWORD", pass.as_str())];
    let report = build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &env);
    assert_eq!(report["tag"], "acme/base:1_custom");

    // From docker's config.json.
    let docker = work.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = base64_encode(format!("{user}:{pass}").as_bytes());
    std::fs::write(docker.join("config.json"), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()))
        .unwrap();
    let again =
        build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &[("DOCKER_CONFIG", docker.to_str().unwrap())]);
    assert_eq!(again["index_digest"], report["index_digest"]);
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn build_against_a_basic_auth_registry() {
    build_with_auth(RegistryOptions { htpasswd: Some(("builder".into(), "s3cret".into())), ..Default::default() });
}

#[test]
fn build_against_a_bearer_token_registry() {
    build_with_auth(RegistryOptions {
        htpasswd: Some(("builder".into(), "t0ken-pass".into())),
        token_auth: true,
        ..Default::default()
    });
}
