//! Registry notification and Docker Hub webhook bodies: parsed or refused with details.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(delivery) = tailor_webhook::parse_body(data) {
        assert!(delivery.pushes.len() <= delivery.events.max(1), "more pushes than events");
        for p in &delivery.pushes {
            assert!(!p.repository.is_empty() && !p.tag.is_empty(), "a push without repository or tag: {p:?}");
        }
    }
});
