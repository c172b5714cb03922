//! A client of tailor's API for the `tailor` command (and scripts): where the service is and
//! the token to use ([`login`]), requests with the API's errors kept whole ([`api`]), what each
//! failure exits with ([`error`]), and tables, JSON and YAML for the answers ([`render`]).
//! No wasmtime, no store: it only speaks HTTP.

pub mod api;
pub mod document;
pub mod error;
pub mod login;
pub mod render;

pub use api::{Answer, Api};
pub use error::{Error, Exit};
pub use login::{Login, LoginSource};
pub use render::{Format, Table};
