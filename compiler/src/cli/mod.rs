//! The command line's own helpers (the binary's, not the library's): dynamic completion,
//! `show`'s layout, `probe`'s packets and `verify`'s reading of a host. IO is allowed
//! here, as in main.rs.

pub mod complete;
pub mod probe;
pub mod show;
pub mod verify;
