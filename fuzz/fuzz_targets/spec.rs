//! Tenants' specs (customization, chart, mirror, extension) in YAML and JSON: every input
//! is accepted or refused with problems; a spec accepted once is accepted again from its own
//! JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_spec::{ChartSpec, Customization, ExtensionSpec, MirrorSpec};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let json = kind & 1 == 1;
    match kind >> 1 & 3 {
        0 => {
            let spec = if json { Customization::from_json(text) } else { Customization::from_yaml(text) };
            if let Ok(spec) = spec {
                let again = serde_json::to_string(&spec).expect("a parsed spec serializes");
                if let Err(e) = Customization::from_json(&again) {
                    panic!("the JSON of an accepted spec is refused: {e}\n{again}");
                }
            }
        }
        1 => drop(if json { ChartSpec::from_json(text) } else { ChartSpec::from_yaml(text) }),
        2 => drop(if json { MirrorSpec::from_json(text) } else { MirrorSpec::from_yaml(text) }),
        _ => drop(if json { ExtensionSpec::from_json(text) } else { ExtensionSpec::from_yaml(text) }),
    }
});
