//! What an extension returns at a checkpoint, decoded within the output limits.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tailor_build::checks::output::{OutputLimits, Returned, findings};
use tailor_build::checks::{Checkpoint, Severity};

#[derive(Arbitrary, Debug)]
struct Call {
    returned: Vec<(String, bool, String, Option<String>)>,
    findings: u8,
    bytes: u16,
    image: bool,
}

fuzz_target!(|call: Call| {
    let limits = OutputLimits { findings: call.findings as usize, bytes: call.bytes as usize };
    let returned: Vec<Returned> = call
        .returned
        .into_iter()
        .map(|(rule, deny, message, path)| Returned {
            rule,
            severity: if deny { Severity::Deny } else { Severity::Warn },
            message,
            path,
        })
        .collect();
    let checkpoint = if call.image { Checkpoint::CheckImage } else { Checkpoint::CheckCustomization };
    if let Ok(taken) = findings(returned, checkpoint, "linux/amd64", limits) {
        assert!(taken.len() <= limits.findings);
        let bytes: usize =
            taken.iter().map(|f| f.rule.len() + f.message.len() + f.path.as_ref().map_or(0, String::len)).sum();
        assert!(bytes <= limits.bytes);
        assert!(taken.iter().all(|f| !f.rule.trim().is_empty()));
    }
});
