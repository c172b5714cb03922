//! Docker Hub webhooks: `{"push_data": {tag, pushed_at, pusher}, "repository": {repo_name,
//! namespace, name, …}, "callback_url"}`, one push each, with no digest and no signature. The
//! event id is `<repo_name>:<tag>:<pushed_at>`, so a redelivery of the same push is a duplicate.
//! The callback URL is not called: components make no outbound requests.

use serde_json::{Map, Value};
use tailor_guest::Detail;

use crate::payload::{Delivery, Push, check_repository, check_tag, kind, opt_object, opt_str};

/// Validates a webhook (an object with `push_data` and `repository`) into its one push.
pub fn parse(hook: &Map<String, Value>) -> Result<Delivery, Vec<Detail>> {
    parse_push(hook).map(|push| Delivery { events: 1, pushes: vec![push] }).map_err(|d| vec![d])
}

fn parse_push(hook: &Map<String, Value>) -> Result<Push, Detail> {
    let push_data = opt_object(hook, "push_data", "push_data")?.ok_or_else(|| Detail::new("push_data", "missing"))?;
    let repository =
        opt_object(hook, "repository", "repository")?.ok_or_else(|| Detail::new("repository", "missing"))?;
    opt_str(hook, "callback_url", "callback_url")?;
    opt_str(push_data, "pusher", "push_data.pusher")?;

    let tag = opt_str(push_data, "tag", "push_data.tag")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Detail::new("push_data.tag", "missing"))?;
    check_tag(tag, "push_data.tag")?;
    let pushed_at = match push_data.get("pushed_at") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => s.clone(),
        None | Some(Value::Null) => return Err(Detail::new("push_data.pushed_at", "missing")),
        Some(other) => {
            return Err(Detail::new(
                "push_data.pushed_at",
                format!("expected a number (Unix seconds), found {}", kind(other)),
            ));
        }
    };

    let repo_name = opt_str(repository, "repo_name", "repository.repo_name")?.filter(|r| !r.is_empty());
    let namespace = opt_str(repository, "namespace", "repository.namespace")?.filter(|n| !n.is_empty());
    let name = opt_str(repository, "name", "repository.name")?.filter(|n| !n.is_empty());
    let repo_name = match (repo_name, namespace, name) {
        (Some(repo_name), _, _) => repo_name.to_owned(),
        (None, Some(namespace), Some(name)) => format!("{namespace}/{name}"),
        (None, _, _) => {
            return Err(Detail::new("repository.repo_name", "missing (and no repository.namespace and .name)"));
        }
    };
    check_repository(&repo_name, "repository.repo_name")?;

    Ok(Push {
        event_id: format!("{repo_name}:{tag}:{pushed_at}"),
        repository: repo_name,
        tag: tag.to_owned(),
        digest: None,
        attachment: crate::distribution::is_cosign_tag(tag),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse_value(v: Value) -> Result<Delivery, Vec<Detail>> {
        match v {
            Value::Object(o) => parse(&o),
            _ => unreachable!("tests pass objects"),
        }
    }

    fn field(v: Value) -> String {
        parse_value(v).unwrap_err().remove(0).field
    }

    #[test]
    fn repository_falls_back_to_namespace_and_name() {
        let d = parse_value(
            json!({"push_data": {"tag": "1", "pushed_at": 17}, "repository": {"namespace": "acme", "name": "x"}}),
        )
        .unwrap();
        assert_eq!(d.pushes[0].repository, "acme/x");
        assert_eq!(d.pushes[0].event_id, "acme/x:1:17");
    }

    #[test]
    fn problems_name_their_field() {
        let repo = json!({"repo_name": "acme/x"});
        assert_eq!(field(json!({"push_data": [], "repository": repo})), "push_data");
        assert_eq!(field(json!({"push_data": {"pushed_at": 1}, "repository": repo})), "push_data.tag");
        assert_eq!(field(json!({"push_data": {"tag": "a b", "pushed_at": 1}, "repository": repo})), "push_data.tag");
        assert_eq!(field(json!({"push_data": {"tag": "1"}, "repository": repo})), "push_data.pushed_at");
        assert_eq!(
            field(json!({"push_data": {"tag": "1", "pushed_at": {}}, "repository": repo})),
            "push_data.pushed_at"
        );
        assert_eq!(
            field(json!({"push_data": {"tag": "1", "pushed_at": 1, "pusher": 5}, "repository": repo})),
            "push_data.pusher"
        );
        assert_eq!(field(json!({"push_data": {"tag": "1", "pushed_at": 1}, "repository": "acme/x"})), "repository");
        assert_eq!(
            field(json!({"push_data": {"tag": "1", "pushed_at": 1}, "repository": {"namespace": "acme"}})),
            "repository.repo_name"
        );
        assert_eq!(
            field(json!({"push_data": {"tag": "1", "pushed_at": 1}, "repository": {"repo_name": "Acme/X"}})),
            "repository.repo_name"
        );
        assert_eq!(
            field(json!({"push_data": {"tag": "1", "pushed_at": 1}, "repository": repo, "callback_url": 1})),
            "callback_url"
        );
    }
}
