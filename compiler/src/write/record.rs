//! The record beside OUT (`.<OUT>.lvsdr-state`) of what lvsdr last wrote there: each
//! file's mode and SHA-256, the manifest and the build that made them, and a stamp of
//! OUT and its `index.json`.
//!
//! The record is trusted only while the stamp matches: OUT is the same directory and its
//! `index.json` the same file, untouched (inode, size, modification and change times to
//! the nanosecond). Every change lvsdr makes to OUT replaces `index.json`, so a stale
//! record is never trusted. A change made by hand inside OUT that leaves `index.json`
//! alone is not seen here: `compile --check` reads every byte and finds it.
//!
//! The record is written as the tree is, one line per file, then the file count and the
//! stamp (known only once `index.json` is in place); an unchanged compile reads only its
//! first lines and its last.

use super::{disk, io, WriteError};
use crate::contract::INDEX_FILE;
use camino::{Utf8Path, Utf8PathBuf};
use rustc_hash::FxHashMap;
use std::fs;
use std::io::{BufRead, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;

const HEADER: &str = "lvsdr-state 2";

/// Identifies this build's output: the version and a digest of its sources and templates.
pub const BUILD_ID: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("LVSDR_SOURCE_DIGEST"));

/// A file as the record knows it.
#[derive(Debug)]
pub struct Known {
    pub mode: u32,
    pub sha256: [u8; 32],
    /// Set when the new tree has this path too: what stays unset goes.
    pub kept: std::sync::atomic::AtomicBool,
}

impl Known {
    /// Whether a file of `mode` with the hex checksum `sha256` is this one.
    pub fn is(&self, mode: u32, sha256: &str) -> bool {
        self.mode == mode && from_hex(sha256) == Some(self.sha256)
    }
}

/// What the record says made OUT.
#[derive(Debug, Default)]
pub struct Origin {
    /// The build of lvsdr that wrote it (`BUILD_ID`).
    pub build: String,
    /// SHA-256 of the manifest's bytes.
    pub manifest: String,
    /// How many files the tree has, `index.json` included.
    pub files: usize,
}

/// What lvsdr last wrote to OUT, file by file.
#[derive(Debug, Default)]
pub struct Record {
    /// Path in the tree → mode and checksum, `index.json` included.
    pub files: FxHashMap<String, Known>,
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The stamp of OUT and its index, as one line.
fn stamp(out: &Utf8Path) -> Option<String> {
    let dir = rustix::fs::lstat(out.as_std_path()).ok()?;
    let index = rustix::fs::lstat(out.join(INDEX_FILE).as_std_path()).ok()?;
    Some(format!(
        "stamp {} {} {} {} {}.{} {}.{}",
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

fn path(parent: &Utf8Path, name: &str) -> Utf8PathBuf {
    disk::beside(parent, name, "state")
}

/// Where the record says OUT came from, when OUT is still as the record describes it.
/// Reads the record's first lines and its last only.
pub fn origin(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Option<Origin> {
    let mut file = std::io::BufReader::new(fs::File::open(path(parent, name)).ok()?);
    let mut line = String::new();
    let mut next = |file: &mut std::io::BufReader<fs::File>| {
        line.clear();
        file.read_line(&mut line).ok()?;
        Some(line.trim_end_matches('\n').to_owned())
    };
    if next(&mut file)? != HEADER {
        return None;
    }
    let build = next(&mut file)?.strip_prefix("build ")?.to_owned();
    let manifest = next(&mut file)?.strip_prefix("manifest ")?.to_owned();
    // The stamp and the end mark are the last two lines, well within the last 512 bytes.
    let length = file.seek(std::io::SeekFrom::End(0)).ok()?;
    file.seek(std::io::SeekFrom::Start(length.saturating_sub(512))).ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    let mut last = tail.lines().rev();
    if last.next()? != "end" || last.next()? != stamp(out)? {
        return None;
    }
    let files = last.next()?.strip_prefix("files ")?.parse().ok()?;
    Some(Origin { build, manifest, files })
}

/// The whole record for `out`, when there is one and OUT is still as it describes.
pub fn load(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Option<Record> {
    let text = fs::read_to_string(path(parent, name)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    lines.next()?.strip_prefix("build ")?;
    lines.next()?.strip_prefix("manifest ")?;
    // Sized once: growing a large tree's map of paths would hold two copies at a time.
    let count = text.as_bytes().iter().filter(|b| **b == b'\n').count();
    let mut files = FxHashMap::with_capacity_and_hasher(count, Default::default());
    for line in lines.by_ref() {
        if let Some(count) = line.strip_prefix("files ") {
            if count.parse() != Ok(files.len()) || lines.next()? != stamp(out)? || lines.next()? != "end" {
                return None;
            }
            return Some(Record { files });
        }
        let mut fields = line.splitn(3, ' ');
        let mode = u32::from_str_radix(fields.next()?, 8).ok()?;
        let sha256 = from_hex(fields.next()?)?;
        files.insert(fields.next()?.to_owned(), Known { mode, sha256, kept: Default::default() });
    }
    None
}

/// Writes a new record as the tree is written, then puts it in place of the old one.
pub struct Recorder {
    file: std::io::BufWriter<fs::File>,
    temporary: Utf8PathBuf,
    /// Files recorded so far.
    pub files: usize,
}

impl Recorder {
    /// Starts a record of a tree compiled from `manifest` by this build.
    pub fn create(parent: &Utf8Path, name: &str, manifest: &str) -> Result<Recorder, WriteError> {
        let temporary = disk::beside(parent, name, "state.new");
        let _ = fs::remove_file(&temporary);
        let file =
            fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&temporary).map_err(io(&temporary))?;
        let mut recorder = Recorder { file: std::io::BufWriter::with_capacity(1 << 16, file), temporary, files: 0 };
        let header = format!("{HEADER}\nbuild {BUILD_ID}\nmanifest {manifest}\n");
        recorder.file.write_all(header.as_bytes()).map_err(io(&recorder.temporary))?;
        Ok(recorder)
    }

    pub fn add(&mut self, path: &str, mode: u32, sha256: &str) -> Result<(), WriteError> {
        self.files += 1;
        writeln!(self.file, "{mode:04o} {sha256} {path}").map_err(io(&self.temporary))
    }

    /// Ends the record with the stamp of OUT as it is now and puts it in place: a reader
    /// sees a whole record or the previous one.
    pub fn finish(mut self, parent: &Utf8Path, name: &str, out: &Utf8Path) -> Result<(), WriteError> {
        let stamp = stamp(out).ok_or_else(|| WriteError::Unreadable {
            out: out.to_owned(),
            reason: "it has no index.json after writing it".into(),
        })?;
        writeln!(self.file, "files {}\n{stamp}\nend", self.files).map_err(io(&self.temporary))?;
        self.file.into_inner().map_err(|e| io(&self.temporary)(e.into_error()))?;
        let target = path(parent, name);
        fs::rename(&self.temporary, &target).map_err(io(&target))
    }

    /// Drops an unfinished record.
    pub fn abandon(self) {
        let _ = fs::remove_file(&self.temporary);
    }
}

/// Forgets the record, so that the next compile compares nothing with it.
pub fn forget(parent: &Utf8Path, name: &str) -> Result<(), WriteError> {
    let path = path(parent, name);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
        _ => Ok(()),
    }
}
