//! The `tailor` CLI client against `tailor up` (the real host and components, the real
//! registry and worker): sign in, every customization and build command with each output
//! format, mirrors and chart customizations through the same client, the catalog, and the
//! failures — bad input, conflicts, roles, not found, no login, no server — each with its exit
//! status and the API's field paths.

mod failures;
mod flow;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::build::fixtures::tailor_bin;

/// One `tailor` run: exit status, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    pub fn yaml(&self) -> Value {
        serde_yaml::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not YAML ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// A person's terminal-less shell: its own login file, no TAILOR_SERVER/TAILOR_TOKEN unless given.
pub struct Shell {
    pub config: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Shell {
    pub fn new(dir: &Path) -> Shell {
        Shell { config: dir.join("home/.config/tailor/login.toml"), env: Vec::new() }
    }

    pub fn with(mut self, key: &str, value: &str) -> Shell {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(tailor_bin());
        cmd.args(args)
            .env_remove("TAILOR_SERVER")
            .env_remove("TAILOR_TOKEN")
            .env_remove("XDG_CONFIG_HOME")
            .env("TAILOR_CONFIG", &self.config)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run tailor");
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let o = child.wait_with_output().unwrap();
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A small base: accounts and os-release, two platforms.
pub fn base_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
        ("/etc/group", b"root:x:0:\n"),
        ("/etc/os-release", b"ID=testos\nVERSION_ID=1\n"),
        ("/usr/bin/app", b"#!/bin/sh\necho app\n"),
    ]
}
