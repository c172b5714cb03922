//! tailor's build engine.

pub mod compress;
pub mod filter;
pub mod flatten;
pub mod tarfs;
