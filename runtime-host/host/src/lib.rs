//! The wasmtime host of tailor's Spin functions (`tailor up`): reads spin.toml, compiles
//! each component once, and serves its routes with an instance per request, providing WASI
//! 0.2/0.3, wasi:http 0.3, `spin:sqlite`, `spin:postgres` and `spin:variables`.

mod component;
mod engine;
mod manifest;
mod ops;
mod postgres;
mod routes;
mod serve;
mod sqlite;
mod state;
mod throttle;
mod variables;

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "tailor:host/functions",
        imports: { default: trappable },
        with: {
            "spin:sqlite/sqlite.connection": crate::sqlite::Connection,
            "spin:postgres/postgres.connection": crate::postgres::Connection,
            "spin:postgres/postgres.connection-builder": crate::postgres::ConnectionBuilder,
        },
    });
}

pub use component::Limits;
pub use manifest::Manifest;
pub use ops::{Ops, serve_ops};
pub use serve::{App, ManifestSource, OpsHandle, ServeOptions, bind};
