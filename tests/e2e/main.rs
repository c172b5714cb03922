//! tailor's end-to-end tests: one binary, real components (see `harness`).
//! Run with `cargo test -p tailor-tests --test e2e` (a filter such as `registry` selects a module).

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod build;
mod chart;
mod client;
mod contract;
mod extension;
mod faults;
mod floods;
mod harness;
mod mirror;
mod packages;
mod registry_client;
mod scale;
mod service;
mod ship;
mod sign;
