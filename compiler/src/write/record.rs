//! The record beside OUT (`.<OUT>.lvsdr-state`) of what lvsdr last wrote there: each
//! file's mode and SHA-256, the manifest and the build that made them, and a stamp of
//! OUT and its `index.json`.
//!
//! The record is trusted only while the stamp matches: OUT is the same directory and its
//! `index.json` the same file, untouched (inode, size, modification and change times to
//! the nanosecond). Every change lvsdr makes to OUT replaces `index.json`, so a stale
//! record is never trusted. A change made by hand inside OUT that leaves `index.json`
//! alone is not seen here: `compile --check` reads every byte and finds it.

use super::{disk, io, WriteError};
use camino::Utf8Path;
use rustc_hash::FxHashMap;
use std::fs;

const HEADER: &str = "lvsdr-state 1";

/// A file as the record knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub mode: u32,
    pub sha256: String,
}

/// One file of the record: path in the tree, mode, SHA-256.
pub type Entry = (String, u32, String);

/// What lvsdr last wrote to OUT.
#[derive(Debug, Default)]
pub struct Record {
    /// The build of lvsdr that wrote it (`BUILD_ID`).
    pub build: String,
    /// SHA-256 of the manifest's bytes.
    pub manifest: String,
    /// Path in the tree → mode and checksum, `index.json` included.
    pub files: FxHashMap<String, Known>,
}

/// Identifies this build's output: the version and a digest of its sources and templates.
pub const BUILD_ID: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("LVSDR_SOURCE_DIGEST"));

/// The stamp of OUT and its index, as one line.
fn stamp(out: &Utf8Path) -> Option<String> {
    let dir = rustix::fs::lstat(out.as_std_path()).ok()?;
    let index = rustix::fs::lstat(out.join(crate::contract::INDEX_FILE).as_std_path()).ok()?;
    Some(format!(
        "{} {} {} {} {}.{} {}.{}",
        dir.st_dev,
        dir.st_ino,
        index.st_ino,
        index.st_size,
        index.st_mtime,
        index.st_mtime_nsec,
        index.st_ctime,
        index.st_ctime_nsec
    ))
}

/// The record for `out`, when there is one and OUT is still as it describes.
pub fn load(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Option<Record> {
    let text = fs::read_to_string(disk::beside(parent, name, "state")).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let build = lines.next()?.strip_prefix("build ")?.to_owned();
    let manifest = lines.next()?.strip_prefix("manifest ")?.to_owned();
    if lines.next()?.strip_prefix("stamp ")? != stamp(out)? {
        return None;
    }
    let mut files = FxHashMap::default();
    let mut complete = false;
    for line in lines {
        if line == "end" {
            complete = true;
            break;
        }
        let mut fields = line.splitn(3, ' ');
        let mode = u32::from_str_radix(fields.next()?, 8).ok()?;
        let sha256 = fields.next()?.to_owned();
        files.insert(fields.next()?.to_owned(), Known { mode, sha256 });
    }
    complete.then_some(Record { build, manifest, files })
}

/// Writes the record of `files` (path, mode, checksum) for OUT as it is now. Written to a
/// temporary file and renamed, so a reader sees a whole record or the previous one.
pub fn store(parent: &Utf8Path, name: &str, out: &Utf8Path, manifest: &str, files: &[Entry]) -> Result<(), WriteError> {
    let path = disk::beside(parent, name, "state");
    let stamp = stamp(out).ok_or_else(|| WriteError::Unreadable {
        out: out.to_owned(),
        reason: "it has no index.json after writing it".into(),
    })?;
    let mut text = String::with_capacity(files.len() * 100 + 256);
    text += &format!("{HEADER}\nbuild {BUILD_ID}\nmanifest {manifest}\nstamp {stamp}\n");
    for (path, mode, sha256) in files {
        text += &format!("{mode:04o} {sha256} {path}\n");
    }
    text += "end\n";
    let temporary = disk::beside(parent, name, "state.new");
    let _ = fs::remove_file(&temporary);
    disk::create_file(&temporary, 0o644, text.as_bytes())?;
    fs::rename(&temporary, &path).map_err(io(&path))
}

/// Forgets the record, so that the next compile compares nothing with it.
pub fn forget(parent: &Utf8Path, name: &str) -> Result<(), WriteError> {
    let path = disk::beside(parent, name, "state");
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
        _ => Ok(()),
    }
}
