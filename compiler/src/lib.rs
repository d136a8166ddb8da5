//! lvsdr compiles one LVS direct-routing cluster manifest into every real server's boot artifacts.
//!
//! The pipeline, one module a stage, data flowing one way:
//! `parse` (text → `raw` serde types, shaped by `shape`) → `lower` (all semantic checks →
//! `model`) → `plan` (artifacts per server) → `emit` (templates) → `tree` (one host's
//! files and `index.json` entry at a time) → `write` (OUT brought up to date: nothing, an
//! update through a journal, or the whole tree swapped in). Only `write` and the CLI do IO.
//!
//! The pipeline's stages are private. What the command line (and the tests) use is this
//! file's surface: a manifest checked into a `Cluster` (`check_source`), a cluster's hosts
//! and tree (`hosts`), and the public modules below.

mod analysis;
mod boot;
mod codes;
mod diag;
mod dialect;
mod digest;
mod director_marks;
mod director_steps;
mod emit;
mod hosts;
mod keywords;
mod lower;
mod manifest_source;
mod model;
mod parse;
mod plan;
mod platform;
mod platform_prose;
mod raw;
mod shape;
mod source;
mod tree;
mod yaml;

/// index.json and every `--format json` result, as typed structs.
pub mod contract;
/// `lvsdr probe` without IO: what to ask on the segment, how to judge the answers.
pub mod probe;
/// The manifest reference (docs/manifest.md, lvsdr(5)) and `lvsdr init`'s manifest.
pub mod reference;
/// Diagnostics for people, for GitHub annotations and for JSON results.
pub mod report;
/// What changes between two trees, file by file, and what each host runs to take it.
pub mod review;
/// The JSON Schemas of the manifest and of each contract.
pub mod schema;
/// OUT brought up to date with a cluster's tree, or compared with it.
pub mod write;

pub use analysis::{
    check_bytes, check_bytes_within, check_source, manifest_value, parse_size, Checked, Syntax, MAX_MANIFEST_BYTES,
};
pub use boot::{explain as explain_boot, VIPS_SCRIPT};
pub use codes::Code;
pub use diag::{has_errors, Diagnostic};
pub use digest::sha256_hex;
pub use hosts::{ArtifactPlace, Artifacts, Host, HostEntry, NoSuchArtifact, UnknownHost};
pub use manifest_source::ManifestSource;
pub use model::Cluster;
pub use tree::{Tree, TreeFile};

/// What the tests compare with the manifest's own word lists, and nothing else uses.
#[doc(hidden)]
pub mod testing {
    pub use crate::model::{Platform, SuppressionTool};
}
