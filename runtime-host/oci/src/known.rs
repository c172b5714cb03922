//! Blobs the process has recently seen in a repository of a registry (a `HEAD` answered 200, an
//! upload or a mount succeeded), so that the builds of a fan-out do not each ask again for the
//! layers they share. A remembered blob can have been deleted since: whoever relies on it pushes a
//! manifest, which the registry then refuses as naming an unknown blob, and asks again with
//! [`crate::Client::blob_exists`], which always asks the store and corrects what is remembered.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::Digest;

/// How long a sighting is trusted.
const FOR: Duration = Duration::from_secs(600);
/// At most this many sightings are kept; beyond it the old ones go, or all if none is old.
const MAX: usize = 16_384;

type Key = (String, String, Digest);

fn map() -> MutexGuard<'static, HashMap<Key, Instant>> {
    static KNOWN: OnceLock<Mutex<HashMap<Key, Instant>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

fn key(store: &str, repo: &str, digest: &Digest) -> Key {
    (store.to_owned(), repo.to_owned(), digest.clone())
}

/// `digest` is in `repo` of `store` (a store's description: its URL) as of now.
pub(crate) fn remember(store: &str, repo: &str, digest: &Digest) {
    remember_at(&mut map(), key(store, repo, digest), Instant::now());
}

fn remember_at(map: &mut HashMap<Key, Instant>, key: Key, now: Instant) {
    if map.len() >= MAX && !map.contains_key(&key) {
        map.retain(|_, seen| now.duration_since(*seen) < FOR);
        if map.len() >= MAX {
            map.clear();
        }
    }
    map.insert(key, now);
}

/// Whether `digest` was seen in `repo` of `store` less than [`FOR`] ago.
pub(crate) fn recalls(store: &str, repo: &str, digest: &Digest) -> bool {
    recalls_at(&map(), &key(store, repo, digest), Instant::now())
}

fn recalls_at(map: &HashMap<Key, Instant>, key: &Key, now: Instant) -> bool {
    map.get(key).is_some_and(|seen| now.duration_since(*seen) < FOR)
}

/// `digest` is not (or no longer) in `repo` of `store`.
pub(crate) fn forget(store: &str, repo: &str, digest: &Digest) {
    map().remove(&key(store, repo, digest));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest::of(&[n])
    }

    #[test]
    fn a_sighting_is_trusted_for_a_while_and_per_store_and_repository() {
        let mut m = HashMap::new();
        let t0 = Instant::now();
        remember_at(&mut m, key("http://a", "acme/x", &d(1)), t0);
        assert!(recalls_at(&m, &key("http://a", "acme/x", &d(1)), t0 + FOR / 2));
        assert!(!recalls_at(&m, &key("http://a", "acme/x", &d(1)), t0 + FOR));
        assert!(!recalls_at(&m, &key("http://a", "acme/y", &d(1)), t0));
        assert!(!recalls_at(&m, &key("http://b", "acme/x", &d(1)), t0));
        assert!(!recalls_at(&m, &key("http://a", "acme/x", &d(2)), t0));
    }

    #[test]
    fn the_memory_is_bounded_old_sightings_go_first() {
        let mut m = HashMap::new();
        let t0 = Instant::now();
        remember_at(&mut m, key("s", "old", &d(0)), t0);
        for i in 1..MAX {
            remember_at(&mut m, key("s", &i.to_string(), &d(0)), t0 + FOR);
        }
        assert_eq!(m.len(), MAX);
        remember_at(&mut m, key("s", "new", &d(0)), t0 + FOR + Duration::from_secs(1));
        assert_eq!(m.len(), MAX, "the one old sighting made room");
        assert!(!m.contains_key(&key("s", "old", &d(0))));
        remember_at(&mut m, key("s", "newer", &d(0)), t0 + FOR + Duration::from_secs(2));
        assert_eq!(m.len(), 1, "none old: all go");
    }

    #[test]
    fn forgetting_a_blob_makes_it_unknown() {
        remember("http://forget.test", "acme/x", &d(3));
        assert!(recalls("http://forget.test", "acme/x", &d(3)));
        forget("http://forget.test", "acme/x", &d(3));
        assert!(!recalls("http://forget.test", "acme/x", &d(3)));
    }
}
