//! End-to-end tests of `tailor build` and `tailor artifact push`: the real binary against the
//! real Distribution registry and OCI layouts, results read back with skopeo and umoci.

mod auth;
mod bad_input;
pub mod fixtures;
mod layout;
mod registry;
