//! One call of an extension: a fresh instance in a store with fuel, a deadline counting the
//! guest's own time, a memory limiter and bounded stdout/stderr; its `image` imports answered
//! by the build's view on the calling thread. Every failure is classified.

use std::sync::mpsc;
use std::time::Duration;

use tailor_build::checks::output::{self, OutputLimits, Returned};
use tailor_build::checks::{Checkpoint, Finding, ImageView, Severity};
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::host::{Answer, Ask, PolicyPre, State, wit};
use crate::runtime::{TICK, first_line};
use crate::{Error, Failure, Runtime};

/// A compiled, checked component.
pub struct Loaded {
    pub digest: String,
    pub(crate) pre: PolicyPre<State>,
}

/// What one call gave: its value or classified error, the fuel it used, what it printed.
#[derive(Debug)]
pub struct CallOutcome<T> {
    pub value: Result<T, Error>,
    pub fuel: u64,
    pub log: String,
}

/// The build a check is about (the guest's `build-info`).
#[derive(Debug, Clone)]
pub struct BuildInfo {
    pub org: String,
    pub customization: String,
    pub spec_json: String,
}

fn ticks(d: Duration) -> u64 {
    (d.as_millis() / TICK.as_millis()).max(1) as u64
}

/// Answers one question of the guest from `view`; `read` counts the bytes read so far.
fn serve(view: &dyn ImageView, q: Ask, read: &mut u64, cap: u64) -> Answer {
    match q {
        Ask::Config => Answer::Config(view.config_json()),
        Ask::Packages => Answer::Packages(view.packages()),
        Ask::Files { prefix, after, limit } => {
            let bad = |p: &str| p.split('/').any(|c| c == "..") || p.contains('\0');
            if bad(&prefix) || after.as_deref().is_some_and(bad) {
                return Answer::Files(Err("`..` is not allowed".into()));
            }
            match view.files(&prefix, after.as_deref(), limit) {
                Ok(f) => Answer::Files(Ok(f)),
                Err(e) => Answer::Broken(e),
            }
        }
        Ask::Read { path, offset, length } => {
            if *read >= cap {
                return Answer::Read(Err(format!("this call has read {cap} bytes of the image, its limit")));
            }
            let length = (length as u64).min(cap - *read) as u32;
            let r = view.read(&path, offset, length);
            if let Ok(b) = &r {
                *read += b.len() as u64;
            }
            Answer::Read(r)
        }
    }
}

impl Loaded {
    /// Runs `f` on a fresh instance under the runtime's limits.
    fn run<R: Send>(
        &self,
        rt: &Runtime,
        view: &dyn ImageView,
        f: impl FnOnce(&mut Store<State>, &crate::host::Policy) -> wasmtime::Result<R> + Send,
    ) -> CallOutcome<R> {
        let limits = rt.limits;
        std::thread::scope(|s| {
            let (ask_tx, ask_rx) = mpsc::channel();
            let (answer_tx, answer_rx) = mpsc::channel();
            let guest = s.spawn(move || {
                let (state, pipes) = State::new(ask_tx, answer_rx, limits.memory, limits.deadline, limits.log);
                let mut store = Store::new(&rt.engine, state);
                store.limiter(|s| s as &mut dyn wasmtime::ResourceLimiter);
                let _ = store.set_fuel(limits.fuel);
                store.set_epoch_deadline(ticks(limits.deadline));
                store.epoch_deadline_callback(|mut ctx| {
                    let st = ctx.data_mut();
                    let used = st.guest_time();
                    if used >= st.deadline {
                        st.timed_out = true;
                        Ok(UpdateDeadline::Interrupt)
                    } else {
                        Ok(UpdateDeadline::Continue(ticks(st.deadline - used)))
                    }
                });
                let result = self.pre.instantiate(&mut store).and_then(|p| f(&mut store, &p));
                let fuel = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
                let out: Vec<u8> = pipes.iter().flat_map(|p| p.contents().to_vec()).collect();
                let overflow = pipes.iter().any(|p| p.contents().len() >= limits.log);
                let st = store.data();
                let value = result.map_err(|e| classify(&e, st, overflow, limits.log));
                CallOutcome { value, fuel, log: String::from_utf8_lossy(&out).into_owned() }
            });
            let mut read = 0u64;
            for q in ask_rx {
                if answer_tx.send(serve(view, q, &mut read, limits.reads)).is_err() {
                    break;
                }
            }
            guest.join().unwrap_or_else(|_| CallOutcome {
                value: Err(Error::new(Failure::Trap, "the call's thread panicked")),
                fuel: 0,
                log: String::new(),
            })
        })
    }

    /// `validate-settings(settings)`: `Ok(Err(why))` when the extension refuses them.
    pub fn validate_settings(&self, rt: &Runtime, settings: &str) -> CallOutcome<Result<(), String>> {
        let settings = settings.to_owned();
        self.run(rt, &tailor_build::checks::NoImage, move |store, p| p.call_validate_settings(store, &settings))
    }

    /// One checkpoint for one platform: the findings, checked against the output limits.
    pub fn check(
        &self,
        rt: &Runtime,
        checkpoint: Checkpoint,
        build: &BuildInfo,
        platform: &str,
        settings: &str,
        view: &dyn ImageView,
    ) -> CallOutcome<Vec<Finding>> {
        let info = wit::BuildInfo {
            org: build.org.clone(),
            customization: build.customization.clone(),
            spec_json: build.spec_json.clone(),
            platform: platform.to_owned(),
        };
        let settings = settings.to_owned();
        let outcome = self.run(rt, view, move |store, p| match checkpoint {
            Checkpoint::CheckCustomization => p.call_check_customization(store, &info, &settings),
            Checkpoint::CheckImage => p.call_check_image(store, &info, &settings),
        });
        let limits = OutputLimits { findings: rt.limits.findings, bytes: rt.limits.output };
        let value = outcome.value.and_then(|found| {
            let returned = found
                .into_iter()
                .map(|f| Returned {
                    rule: f.rule,
                    severity: match f.severity {
                        wit::Severity::Deny => Severity::Deny,
                        wit::Severity::Warn => Severity::Warn,
                    },
                    message: f.message,
                    path: f.path,
                })
                .collect();
            output::findings(returned, checkpoint, platform, limits)
                .map_err(|why| Error::new(Failure::InvalidOutput, why))
        });
        CallOutcome { value, fuel: outcome.fuel, log: outcome.log }
    }
}

fn classify(e: &wasmtime::Error, st: &State, overflow: bool, log: usize) -> Error {
    let detail = first_line(e);
    if let Some(why) = &st.broken {
        return Error::new(Failure::Image, why.clone());
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            return Error::new(Failure::Timeout, format!("it ran past its deadline of {:?}", st.deadline));
        }
        Some(Trap::OutOfFuel) => return Error::new(Failure::OutOfFuel, "it used all its fuel"),
        _ => {}
    }
    if st.timed_out {
        return Error::new(Failure::Timeout, format!("it ran past its deadline of {:?}", st.deadline));
    }
    if st.memory_denied {
        return Error::new(Failure::MemoryLimit, format!("it needed more than {} bytes of memory", st.memory));
    }
    if overflow {
        return Error::new(Failure::InvalidOutput, format!("it wrote more than {log} bytes to stdout or stderr"));
    }
    Error::new(Failure::Trap, detail)
}
