//! Write: puts the compiled tree on disk as `OUT`, with exact modes, never over foreign
//! files, so that a reader or a kill sees the old tree or the new one; and compares an
//! `OUT` with the compiled tree for `compile --check` (`check`).
//!
//! One compile at a time writes an `OUT`: an exclusive `flock` on `.<OUT>.lvsdr-lock`
//! beside it, held from the first look at `OUT` to the end. Whatever a killed compile left
//! beside `OUT` is therefore dead once the lock is ours, whatever PID namespace it ran in:
//! a committed update journal is replayed, a staging directory is removed, and a tree moved
//! aside without RENAME_EXCHANGE (the three-rename fallback) is put back or removed.
//!
//! Three ways to write, chosen by what is on disk:
//! - **unchanged**: the record beside `OUT` (`record`) says this build wrote `OUT` from
//!   these manifest bytes and `OUT` is untouched since: nothing is rendered or written.
//! - **update**: the record is trusted but the manifest changed: every host is rendered,
//!   and only the files whose mode or checksum differ from the record are staged beside
//!   `OUT`; a journal (`journal`) then decides the update and the files are renamed into
//!   place. Unchanged files keep their inodes and times.
//! - **whole tree**: no trusted record (a first compile, or `OUT` changed by something
//!   else): the tree is written into a staging directory and swapped in with one
//!   `renameat2(RENAME_EXCHANGE)`, replacing an existing `OUT` only when every file in it
//!   is listed in its own lvsdr `index.json` and every directory holds such a file.
//!
//! Hosts are rendered and written on every core (`parallel`, `stage`), one host at a time
//! per thread, each file written as it renders and `index.json` streamed, so memory
//! follows the manifest, not the tree; `compile --check` compares a large file the same
//! way, as it renders (`check`).
//! Everything that can fail is done before the swap or the journal's commit; after it, a
//! failed clean-up is a warning.

mod check;
mod disk;
mod journal;
mod parallel;
mod record;
mod stage;

pub use check::{check, read_tree};
pub(crate) use record::BUILD_ID;

use crate::contract::{Index, GENERATOR, INDEX_FILE};
use crate::model::Cluster;
use crate::tree::Tree;
use camino::{Utf8Path, Utf8PathBuf};
use disk::{beside, ExactModes};
use journal::Journal;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::OpenOptionsExt;

/// Why the tree was not written.
#[derive(Debug)]
pub enum WriteError {
    /// `OUT` holds something lvsdr did not write; nothing was changed.
    Foreign {
        out: Utf8PathBuf,
        reason: String,
    },
    /// Another lvsdr holds `OUT`'s lock; nothing was changed.
    Busy {
        out: Utf8PathBuf,
        lock: Utf8PathBuf,
    },
    /// `OUT` cannot be read for a comparison.
    Unreadable {
        out: Utf8PathBuf,
        reason: String,
    },
    Io {
        path: Utf8PathBuf,
        error: std::io::Error,
    },
    /// An update's staged copy of `file` (a path in the tree) could not be written: its
    /// staged name (`0.7`: host and position numbers) alone would not tell a reader which file it was.
    Staged {
        file: String,
        path: Utf8PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Foreign { out, reason } => write!(f, "refusing to replace {out}: {reason}"),
            WriteError::Busy { out, lock } => {
                write!(f, "{out} is being written by another lvsdr (it holds {lock}); try again when it is done")
            }
            WriteError::Unreadable { out, reason } => write!(f, "cannot compare {out}: {reason}"),
            WriteError::Io { path, error } => write!(f, "{path}: {error}"),
            WriteError::Staged { file, path, error } => write!(f, "{file} (staged as {path}): {error}"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io { error, .. } | WriteError::Staged { error, .. } => Some(error),
            WriteError::Foreign { .. } | WriteError::Busy { .. } | WriteError::Unreadable { .. } => None,
        }
    }
}

fn io(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |error| WriteError::Io { path: path.to_owned(), error }
}

/// How a compile wrote OUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new tree, swapped in whole.
    WholeTree,
    /// Only the files that changed, through the journal.
    Update,
    /// Nothing: OUT already is what the manifest compiles to.
    Unchanged,
}

/// What a compile did to OUT.
#[derive(Debug)]
pub struct Written {
    pub method: Method,
    /// Files in the tree, `index.json` included.
    pub files: usize,
    /// Files created or replaced.
    pub written: usize,
    /// Files removed (by an update).
    pub removed: usize,
    /// What could not be cleaned up after the new tree was in place.
    pub warnings: Vec<String>,
}

/// OUT without `.` components, its parent directory and its name.
fn locate(out: &Utf8Path) -> Result<(Utf8PathBuf, Utf8PathBuf, String), WriteError> {
    let out = normalize(out);
    let name = out
        .file_name()
        .ok_or_else(|| WriteError::Foreign {
            out: out.clone(),
            reason: "the output path has no directory name".into(),
        })?
        .to_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    Ok((out, parent, name))
}

/// Compiles `cluster` into the directory `out`: nothing when OUT already holds what these
/// manifest bytes (`manifest`, their SHA-256) compile to, an update of the changed files
/// when lvsdr's record of OUT is trusted, the whole tree swapped in otherwise.
pub fn compile(cluster: &Cluster, manifest: &str, out: &Utf8Path) -> Result<Written, WriteError> {
    let (out, parent, name) = locate(out)?;
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let _lock = lock(&parent, &name, &out)?;
    recover(&parent, &name, &out)?;
    let _modes = ExactModes::begin();
    if let Some(origin) = record::origin(&parent, &name, &out) {
        if origin.build == BUILD_ID && origin.manifest == manifest {
            let files = origin.files;
            return Ok(Written { method: Method::Unchanged, files, written: 0, removed: 0, warnings: Vec::new() });
        }
        if let Some(record) = record::load(&parent, &name, &out) {
            return update(cluster, manifest, &out, &parent, &name, record);
        }
    }
    let existing = check_replaceable(&out)?;
    let staging = beside(&parent, &name, &format!("staging-{}", std::process::id()));
    let mut recorder = record::Recorder::create(&parent, &name, manifest)?;
    let result =
        disk::make_dir(&staging).and_then(|()| stage::stage(cluster, &staging, None, &mut recorder)).and_then(|_| {
            disk::sync_filesystem(&staging)?;
            swap_in(&staging, &out, existing, &parent)
        });
    let mut warnings = match result {
        Ok(warnings) => warnings,
        Err(error) => {
            recorder.abandon();
            if staging.exists() {
                // Best effort: the error that matters is the one being returned.
                let _ = fs::remove_dir_all(&staging);
            }
            return Err(error);
        }
    };
    let files = recorder.files;
    if let Err(e) = recorder.finish(&parent, &name, &out) {
        warnings.push(format!(
            "the new tree is in place, but its record was not written ({e}); the next compile rewrites it whole"
        ));
    }
    Ok(Written { method: Method::WholeTree, files, written: files, removed: 0, warnings })
}

/// Updates OUT in place from the trusted `record`: stages what changed, commits a journal,
/// applies it. Unchanged files are not touched.
fn update(
    cluster: &Cluster,
    manifest: &str,
    out: &Utf8Path,
    parent: &Utf8Path,
    name: &str,
    record: record::Record,
) -> Result<Written, WriteError> {
    let staging_name = format!(".{name}.lvsdr-staging-{}", std::process::id());
    let staging = parent.join(&staging_name);
    let mut recorder = record::Recorder::create(parent, name, manifest)?;
    let decided = disk::make_dir(&staging).and_then(|()| stage::stage(cluster, &staging, Some(&record), &mut recorder));
    let decided = decided.and_then(|puts| {
        // What the record has and the new tree has not goes (index.json is always kept).
        let kept = |known: &record::Known| known.kept.load(std::sync::atomic::Ordering::Relaxed);
        let mut removes: Vec<String> = record
            .files
            .iter()
            .filter(|(path, known)| *path != INDEX_FILE && !kept(known))
            .map(|(path, _)| path.clone())
            .collect();
        removes.sort();
        let journal = Journal { staging: staging_name.clone(), puts, removes };
        if !journal.puts.is_empty() || !journal.removes.is_empty() {
            disk::sync_filesystem(&staging)?;
            journal.commit(parent, name)?;
        }
        Ok(journal)
    });
    let journal = match decided {
        Ok(journal) => journal,
        Err(error) => {
            recorder.abandon();
            let _ = fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    drop(record);
    let changed = !journal.puts.is_empty() || !journal.removes.is_empty();
    if changed {
        journal.apply(parent, name, out).map_err(|e| WriteError::Io {
            path: out.to_owned(),
            error: std::io::Error::other(format!(
                "the update was decided but not finished ({e}); compile --check sees the new tree, and the next compile finishes it"
            )),
        })?;
    }
    let mut warnings = Vec::new();
    let files = recorder.files;
    if let Err(e) = recorder.finish(parent, name, out) {
        warnings.push(format!(
            "the tree is up to date, but its record was not written ({e}); the next compile rewrites it whole"
        ));
    }
    if let Err(e) = fs::remove_dir(&staging) {
        warnings.push(format!("the tree is up to date; {staging} stays ({e}) until the next compile"));
    }
    Ok(Written {
        method: if changed { Method::Update } else { Method::Unchanged },
        files,
        written: journal.puts.len(),
        removed: journal.removes.len(),
        warnings,
    })
}

/// Writes `tree`, a tree held in memory, as the directory `out`, replacing a previous
/// lvsdr tree there whole. The warnings are what could not be cleaned up after the new
/// tree was in place. (The CLI compiles with `compile`; this is for trees built otherwise.)
pub fn write_tree(tree: &Tree, out: &Utf8Path) -> Result<Vec<String>, WriteError> {
    let (out, parent, name) = locate(out)?;
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let _lock = lock(&parent, &name, &out)?;
    recover(&parent, &name, &out)?;
    let _modes = ExactModes::begin();
    record::forget(&parent, &name)?;
    let existing = check_replaceable(&out)?;
    let staging = beside(&parent, &name, &format!("staging-{}", std::process::id()));
    let result = fill(&staging, tree).and_then(|()| swap_in(&staging, &out, existing, &parent));
    if result.is_err() && staging.exists() {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// `out` without `.` components (`out/.` is `out`), so that it names the directory itself.
fn normalize(out: &Utf8Path) -> Utf8PathBuf {
    let normal: Utf8PathBuf = out.components().filter(|c| *c != camino::Utf8Component::CurDir).collect();
    if normal.as_str().is_empty() {
        Utf8PathBuf::from(".")
    } else {
        normal
    }
}

/// Takes `OUT`'s lock, or says who has it. Released when the returned file is dropped
/// (and by the kernel when the process dies, however it dies).
fn lock(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Result<fs::File, WriteError> {
    let path = beside(parent, name, "lock");
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(io(&path))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(WriteError::Busy { out: out.to_owned(), lock: path }),
        Err(errno) => Err(io(&path)(errno.into())),
    }
}

/// With the lock held, what a killed compile left beside `OUT` is dead: a committed
/// update journal is replayed (the update was decided) and the record forgotten; a
/// staging directory goes; a tree moved aside by the rename fallback goes back to `OUT`
/// when `OUT` is missing (killed between the first two renames), and goes away otherwise.
fn recover(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Result<(), WriteError> {
    if let Some(journal) = Journal::load(parent, name)? {
        let _modes = ExactModes::begin();
        record::forget(parent, name)?;
        journal.apply(parent, name, out)?;
    }
    let staging = format!(".{name}.lvsdr-staging-");
    let aside = format!(".{name}.lvsdr-old-");
    let mut entries: Vec<(String, Utf8PathBuf)> = Vec::new();
    for entry in parent.read_dir_utf8().map_err(io(parent))? {
        let entry = entry.map_err(io(parent))?;
        entries.push((entry.file_name().to_owned(), entry.path().to_owned()));
    }
    entries.sort();
    for (file_name, path) in entries {
        if !fs::symlink_metadata(&path).map_err(io(&path))?.is_dir() {
            continue;
        }
        if file_name.starts_with(&aside) && fs::symlink_metadata(out).is_err() {
            fs::rename(&path, out).map_err(io(out))?;
            disk::sync_dir(parent)?;
        } else if file_name.starts_with(&aside) || file_name.starts_with(&staging) {
            fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Whether `out` exists, after making sure replacing it loses nothing that is not ours.
fn check_replaceable(out: &Utf8Path) -> Result<bool, WriteError> {
    let foreign = |reason: String| WriteError::Foreign { out: out.to_owned(), reason };
    let meta = match fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(out)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(foreign("it is a symbolic link; give the real directory".into()));
    }
    if !meta.is_dir() {
        return Err(foreign("it is not a directory".into()));
    }
    let mut present = BTreeSet::new();
    disk::list_files(out, out, &mut present)?;
    if present.is_empty() {
        return Ok(true);
    }
    let index_path = out.join(INDEX_FILE);
    let index: Index = fs::read_to_string(&index_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .filter(|index: &Index| index.generator == GENERATOR)
        .ok_or_else(|| foreign(format!("it is not empty and has no lvsdr {INDEX_FILE}, so lvsdr did not write it")))?;
    let mut ours: BTreeSet<String> = BTreeSet::from([INDEX_FILE.to_owned()]);
    ours.extend(index.artifacts().map(|(_, artifact)| artifact.path.clone()));
    // A directory holding none of the listed files would be lost in the swap.
    let needed: BTreeSet<String> = ours
        .iter()
        .flat_map(|path| Utf8Path::new(path).ancestors().skip(1).map(|a| a.as_str().to_owned()).collect::<Vec<_>>())
        .filter(|a| !a.is_empty())
        .collect();
    if let Some((stray, _, _)) = disk::list_dirs(out)?.into_iter().find(|(relative, _, _)| !needed.contains(relative)) {
        return Err(foreign(format!(
            "it has a directory lvsdr did not make ({stray}/); move it away, or compile into another directory"
        )));
    }
    let strangers: Vec<&String> = present.difference(&ours).collect();
    if let Some(first) = strangers.first() {
        return Err(foreign(format!(
            "{} file(s) in it were not written by lvsdr (first: {first}); move them away, or compile into another directory",
            strangers.len()
        )));
    }
    Ok(true)
}

fn fill(staging: &Utf8Path, tree: &Tree) -> Result<(), WriteError> {
    disk::make_dir(staging)?;
    let mut made = Vec::new();
    for (relative, file) in &tree.files {
        disk::make_parents(staging, relative, &mut made)?;
        disk::create_file(&staging.join(relative), file.mode, file.contents.as_bytes())?;
    }
    // One syncfs for the whole staged tree instead of an fsync per file: the tree is on
    // disk before it is swapped in, at a fraction of the cost for large clusters.
    disk::sync_filesystem(staging)
}

/// Puts the staged tree at `out`; the old tree, if any, goes away only after. Once the
/// new tree is in place the compile has succeeded: a failed clean-up is a warning.
fn swap_in(staging: &Utf8Path, out: &Utf8Path, existing: bool, parent: &Utf8Path) -> Result<Vec<String>, WriteError> {
    if !existing {
        fs::rename(staging, out).map_err(io(out))?;
        return Ok(disk::sync_dir(parent)
            .err()
            .map(|e| format!("the new tree is in place, but {e}"))
            .into_iter()
            .collect());
    }
    let cwd = rustix::fs::CWD;
    match rustix::fs::renameat_with(
        cwd,
        staging.as_std_path(),
        cwd,
        out.as_std_path(),
        rustix::fs::RenameFlags::EXCHANGE,
    ) {
        Ok(()) => {}
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            // A filesystem without RENAME_EXCHANGE: the old tree moves aside under a name
            // the next compile recognises (`recover`), the new one takes its place, and
            // the old one goes where staging was. Readers may see OUT missing meanwhile.
            let aside = parent.join(format!(".{}.lvsdr-old-{}", out.file_name().unwrap_or("out"), std::process::id()));
            fs::rename(out, &aside).map_err(io(out))?;
            if let Err(e) = fs::rename(staging, out) {
                // Put the old tree back; if even that fails, the next compile does.
                let _ = fs::rename(&aside, out);
                return Err(io(out)(e));
            }
            if let Err(e) = fs::rename(&aside, staging) {
                return Ok(vec![format!(
                    "the new tree is in place; the old one stays at {aside} ({e}) until the next compile"
                )]);
            }
        }
        Err(errno) => return Err(io(out)(errno.into())),
    }
    let mut warnings = Vec::new();
    if let Err(e) = disk::sync_dir(parent) {
        warnings.push(format!("the new tree is in place, but {e}"));
    }
    // `staging` now holds the previous tree.
    if let Err(e) = fs::remove_dir_all(staging) {
        warnings.push(format!("the new tree is in place; the old one stays at {staging} ({e}) until the next compile"));
    }
    Ok(warnings)
}
