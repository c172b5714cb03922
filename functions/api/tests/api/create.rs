//! Creating, reading and listing customizations; parse and validation errors.

use serde_json::json;

use crate::*;

#[test]
fn create_from_json_answers_201_with_the_view_and_the_queued_build() {
    let db = store();
    let response = send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &spec("python-rootca")));
    assert_eq!(response.status, 201);
    let view = body(&response);
    let id = view["id"].as_str().unwrap();
    let hex = id.strip_prefix("cus_").unwrap();
    assert!(hex.len() == 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let this = format!("{CUSTOMIZATIONS}/{id}");
    assert_eq!(response.header("location"), Some(this.as_str()));
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(view["org"], "acme");
    assert_eq!(view["name"], "python-rootca");
    assert_eq!(view["revision"], 1);
    assert_eq!(view["source_repository"], "acme/debian");
    assert_eq!(view["result"], "acme/debian:12_custom");
    assert_eq!(view["spec"]["source"], "acme/debian:12");
    assert_eq!(view["spec"]["platforms"], json!(["linux/amd64"]));
    assert_eq!((view["created_at"].as_str(), view["updated_at"].as_str()), (Some(NOW_TEXT), Some(NOW_TEXT)));
    assert_eq!(view["links"], json!({"self": this, "builds": format!("{this}/builds")}));
    let build = &view["build"];
    assert_eq!(
        *build,
        json!({
            "number": 1, "status": "queued", "reason": "created", "requests": 1, "revision": 1, "attempts": 0,
            "created_at": NOW_TEXT, "started_at": null, "finished_at": null, "fingerprint": null,
            "inputs": null, "outputs": null, "error": null, "extensions": null,
            "links": {"self": format!("{this}/builds/1"), "log": format!("{this}/builds/1/log")},
        })
    );

    let two = create(&db, &spec("python-rootca"));
    assert_ne!(two["id"], view["id"], "every customization gets its own id");
}

#[test]
fn create_from_yaml_in_every_yaml_media_type() {
    let db = store();
    let yaml = "name: app\nsource: acme/dhi-python:3.13\ntag_suffix: fips\nplatforms: [linux/amd64, linux/arm64]\n\
                destination: acme/dhi-python-custom\nenvironment: {TZ: UTC}\n";
    for media_type in ["application/yaml", "application/x-yaml", "text/yaml; charset=utf-8", "Application/YAML"] {
        let req = request("POST", CUSTOMIZATIONS, MEMBER).with_header("Content-Type", media_type).with_body(yaml);
        let response = send(&db, req);
        assert_eq!(response.status, 201, "{media_type}: {}", String::from_utf8_lossy(&response.body));
        let view = body(&response);
        assert_eq!(view["result"], "acme/dhi-python-custom:3.13_fips");
        assert_eq!(view["source_repository"], "acme/dhi-python");
        assert_eq!(view["spec"]["environment"], json!({"TZ": "UTC"}));
    }
    // No content type at all is JSON.
    let req = request("POST", CUSTOMIZATIONS, OWNER).with_body(spec("b").to_string());
    assert_eq!(send(&db, req).status, 201);
}

#[test]
fn get_and_list_with_a_source_filter() {
    let db = store();
    let a = create(&db, &spec("a"));
    let mut other_source = spec("b");
    other_source["source"] = json!("acme/alpine:3.20");
    // Created later: listed after `a` (customizations are listed oldest first).
    let b = body(&send_at(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &other_source), NOW + 1));

    let response = send(&db, request("GET", &path(&a["id"]), MEMBER));
    assert_eq!((response.status, response.header("etag")), (200, Some("\"1\"")));
    let mut expected = a.clone();
    expected.as_object_mut().unwrap().remove("build");
    assert_eq!(body(&response), expected, "the view, without the build");

    let all = body(&send(&db, request("GET", CUSTOMIZATIONS, MEMBER)));
    let ids: Vec<_> = all["customizations"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, [a["id"].clone(), b["id"].clone()]);
    let filtered =
        body(&send(&db, request("GET", &format!("{CUSTOMIZATIONS}?source_repository=acme%2Falpine"), OWNER)));
    assert_eq!(filtered["customizations"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["customizations"][0]["id"], b["id"]);
    let none = body(&send(&db, request("GET", &format!("{CUSTOMIZATIONS}?source_repository=acme/nothing"), OWNER)));
    assert_eq!(none, json!({"customizations": []}));

    let missing = send(&db, request("GET", &format!("{CUSTOMIZATIONS}/cus_missing"), OWNER));
    assert_eq!(error(&missing), (404, "not_found".into()));
}

#[test]
fn every_validation_problem_is_422_with_its_field() {
    let db = store();
    let invalid = json!({
        "name": "a", "source": "acme/debian:12", "tag_suffix": "custom", "platforms": [],
        "contents": {"artifacts": [{"reference": "acme/rootca:1", "includes": []}]},
    });
    let response = send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &invalid));
    assert_eq!(error(&response), (422, "invalid_spec".into()));
    let fields = fields(&response);
    assert!(fields.contains(&"platforms".to_owned()), "{fields:?}");
    assert!(fields.contains(&"contents.artifacts[0].includes".to_owned()), "{fields:?}");
    assert!(body(&response)["error"]["message"].as_str().unwrap().contains("2 problems"));
    assert_eq!(body(&send(&db, request("GET", CUSTOMIZATIONS, OWNER)))["customizations"], json!([]), "nothing stored");
}

#[test]
fn source_and_destination_must_be_in_the_org() {
    let db = store();
    let mut foreign = spec("a");
    foreign["source"] = json!("globex/debian:12");
    foreign["destination"] = json!("globex/debian-custom");
    let response = send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &foreign));
    assert_eq!(error(&response), (422, "invalid_spec".into()));
    assert_eq!(fields(&response), ["source", "destination"]);

    // A destination outside the source's namespace is the spec's own problem, reported once.
    let mut elsewhere = spec("a");
    elsewhere["destination"] = json!("globex/debian-custom");
    let response = send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &elsewhere));
    assert_eq!((response.status, fields(&response)), (422, vec!["destination".to_owned()]));

    // A registry host does not change the namespace.
    let mut hosted = spec("a");
    hosted["source"] = json!("registry.example:5000/acme/debian:12");
    let response = send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &hosted));
    assert_eq!(response.status, 201, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(body(&response)["source_repository"], "acme/debian");
}

#[test]
fn malformed_json_and_yaml_are_400_with_the_field() {
    let db = store();
    let post = |media_type: &str, text: &str| {
        send(&db, request("POST", CUSTOMIZATIONS, OWNER).with_header("Content-Type", media_type).with_body(text))
    };
    let response = post("application/json", "{\"name\": ");
    assert_eq!(error(&response), (400, "malformed_body".into()));

    let response = post("application/json", "");
    assert_eq!(error(&response), (400, "malformed_body".into()));

    let unknown = r#"{"name": "a", "source": "acme/debian:12", "tag_suffix": "c", "platforms": ["linux/amd64"],
                      "contents": {"artifacts": [{"reference": "acme/x:1", "include": ["/opt"]}]}}"#;
    let response = post("application/json", unknown);
    assert_eq!(
        (error(&response), fields(&response)),
        ((400, "malformed_body".into()), vec!["contents.artifacts[0].include".to_owned()])
    );

    let response = post("application/yaml", "name: a\nsource: [unclosed\n");
    assert_eq!(error(&response), (400, "malformed_body".into()));

    let response = post("application/yaml", "name: a\nsource: acme/debian:12\ntag_suffix: c\nplatforms: linux/amd64\n");
    assert_eq!((error(&response), fields(&response)), ((400, "malformed_body".into()), vec!["platforms".to_owned()]));

    let response = send(&db, request("POST", CUSTOMIZATIONS, OWNER).with_body(vec![b'{', 0xff, 0xfe, b'}']));
    assert_eq!(error(&response), (400, "malformed_body".into()));
    assert!(body(&response)["error"]["message"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn other_content_types_are_415() {
    let db = store();
    for media_type in ["text/plain", "application/xml", "application/merge-patch+json", "multipart/form-data; b=x"] {
        let req = request("POST", CUSTOMIZATIONS, OWNER)
            .with_header("Content-Type", media_type)
            .with_body(spec("a").to_string());
        let response = send(&db, req);
        assert_eq!(error(&response), (415, "unsupported_media_type".into()), "{media_type}");
        assert_eq!(fields(&response), ["Content-Type"]);
    }
}
