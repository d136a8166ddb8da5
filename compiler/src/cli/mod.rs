//! The command line's own helpers (the binary's, not the library's): dynamic completion
//! and `show`'s layout. IO is allowed here, as in main.rs.

pub mod complete;
pub mod show;
