//! What an extension returned at a checkpoint, taken only within the output limits: the
//! decoder between an untrusted component's findings and the build record (no WebAssembly
//! here, so it is unit-tested and fuzzed on its own).

use super::{Checkpoint, Finding, Severity};

/// One finding as the component returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub path: Option<String>,
}

/// How much of a call's output is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Findings per call.
    pub findings: usize,
    /// Bytes of rule, message and path over all findings of a call.
    pub bytes: usize,
}

/// The findings of one call at `checkpoint` for `platform`, or why the output is refused
/// (too many, too large, or a finding without a rule).
pub fn findings(
    returned: Vec<Returned>,
    checkpoint: Checkpoint,
    platform: &str,
    limits: OutputLimits,
) -> Result<Vec<Finding>, String> {
    if returned.len() > limits.findings {
        return Err(format!("it returned {} findings; at most {} are taken", returned.len(), limits.findings));
    }
    let bytes = returned.iter().fold(0usize, |n, f| {
        n.saturating_add(f.rule.len())
            .saturating_add(f.message.len())
            .saturating_add(f.path.as_ref().map_or(0, String::len))
    });
    if bytes > limits.bytes {
        return Err(format!("its findings are {bytes} bytes; at most {} are taken", limits.bytes));
    }
    if let Some(f) = returned.iter().find(|f| f.rule.trim().is_empty()) {
        return Err(format!("a finding has no rule: {:?}", f.message));
    }
    Ok(returned
        .into_iter()
        .map(|f| Finding {
            checkpoint,
            platform: platform.to_owned(),
            rule: f.rule,
            severity: f.severity,
            message: f.message,
            path: f.path,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(rule: &str, message: &str) -> Returned {
        Returned { rule: rule.into(), severity: Severity::Deny, message: message.into(), path: None }
    }

    const LIMITS: OutputLimits = OutputLimits { findings: 2, bytes: 10 };

    #[test]
    fn findings_within_the_limits_are_taken_with_their_checkpoint_and_platform() {
        let got = findings(vec![one("r", "m")], Checkpoint::CheckImage, "linux/amd64", LIMITS).unwrap();
        assert_eq!(got[0].checkpoint, Checkpoint::CheckImage);
        assert_eq!((got[0].platform.as_str(), got[0].rule.as_str()), ("linux/amd64", "r"));
    }

    #[test]
    fn too_many_too_large_or_unnamed_findings_are_refused_saying_which() {
        let e = findings(vec![one("a", ""), one("b", ""), one("c", "")], Checkpoint::CheckImage, "", LIMITS);
        assert!(e.unwrap_err().contains("returned 3 findings; at most 2"));
        let e = findings(vec![one("a", "0123456789")], Checkpoint::CheckImage, "", LIMITS);
        assert!(e.unwrap_err().contains("11 bytes; at most 10"));
        let e = findings(vec![one(" \t", "why")], Checkpoint::CheckImage, "", LIMITS);
        assert!(e.unwrap_err().contains("no rule: \"why\""));
    }
}
