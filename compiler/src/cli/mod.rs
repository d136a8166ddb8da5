//! The command line's own helpers (the binary's, not the library's): dynamic completion,
//! `show`'s layout and `probe`'s packets. IO is allowed here, as in main.rs.

pub mod complete;
pub mod probe;
pub mod show;
