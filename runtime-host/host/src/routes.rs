//! Spin's HTTP route matching: an exact route (`/v1/openapi.json`) or a wildcard
//! (`/v1/hooks/...`, which also matches `/v1/hooks`); an exact match wins over wildcards, and
//! the longest wildcard prefix wins among those.

#[derive(Debug, Clone)]
pub struct Router<T> {
    exact: Vec<(String, T)>,
    /// (prefix without the trailing `/...`, target), longest first.
    wildcard: Vec<(String, T)>,
}

impl<T: Clone> Router<T> {
    pub fn new(routes: impl IntoIterator<Item = (String, T)>) -> Router<T> {
        let mut exact = Vec::new();
        let mut wildcard = Vec::new();
        for (route, target) in routes {
            match route.strip_suffix("/...") {
                Some(prefix) => wildcard.push((prefix.to_owned(), target)),
                None if route == "/..." => wildcard.push((String::new(), target)),
                None => exact.push((route.trim_end_matches('/').to_owned(), target)),
            }
        }
        wildcard.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Router { exact, wildcard }
    }

    pub fn route(&self, path: &str) -> Option<&T> {
        let trimmed = path.trim_end_matches('/');
        if let Some((_, t)) = self.exact.iter().find(|(r, _)| r == trimmed) {
            return Some(t);
        }
        self.wildcard
            .iter()
            .find(|(prefix, _)| {
                prefix.is_empty()
                    || path == prefix
                    || path.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.starts_with('/'))
            })
            .map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::Router;

    #[test]
    fn exact_then_longest_wildcard() {
        let r = Router::new([
            ("/v1/...".to_string(), "api"),
            ("/v1/hooks/...".to_string(), "webhook"),
            ("/health".to_string(), "health"),
        ]);
        assert_eq!(r.route("/v1/orgs/acme/customizations"), Some(&"api"));
        assert_eq!(r.route("/v1/hooks/reg"), Some(&"webhook"));
        assert_eq!(r.route("/v1/hooks"), Some(&"webhook"));
        assert_eq!(r.route("/v1/hooksx"), Some(&"api"));
        assert_eq!(r.route("/health"), Some(&"health"));
        assert_eq!(r.route("/health/x"), None);
        assert_eq!(r.route("/v2"), None);
        assert_eq!(r.route("/"), None);
    }
}
