//! Write: puts a `Tree` on disk as `OUT`, atomically, with exact modes, never over foreign
//! files; and reads an `OUT` back for `compile --check`.
//!
//! The new tree is built in a staging directory beside `OUT` and swapped in with one
//! `renameat2(RENAME_EXCHANGE)`, so a reader (or a crash) sees the old tree or the new
//! one, never a mix. An existing `OUT` is replaced only when it is empty or when every
//! file in it is listed in its own lvsdr `index.json`.

use crate::contract::{Index, GENERATOR, INDEX_FILE};
use crate::tree::{Tree, TreeFile};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

const DIR_MODE: u32 = 0o755;

/// Why the tree was not written.
#[derive(Debug)]
pub enum WriteError {
    /// `OUT` holds something lvsdr did not write; nothing was changed.
    Foreign {
        out: Utf8PathBuf,
        reason: String,
    },
    Io {
        path: Utf8PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Foreign { out, reason } => write!(f, "refusing to replace {out}: {reason}"),
            WriteError::Io { path, error } => write!(f, "{path}: {error}"),
        }
    }
}

fn io(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |error| WriteError::Io { path: path.to_owned(), error }
}

/// Writes `tree` as the directory `out`, replacing a previous lvsdr tree there.
pub fn write_tree(tree: &Tree, out: &Utf8Path) -> Result<(), WriteError> {
    let existing = check_replaceable(out)?;
    let name = out.file_name().ok_or_else(|| WriteError::Foreign {
        out: out.to_owned(),
        reason: "the output path has no directory name".into(),
    })?;
    let parent = match out.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    remove_stale_staging(&parent, name)?;
    let staging = parent.join(format!(".{name}.lvsdr-staging-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let result = fill(&staging, tree).and_then(|()| swap_in(&staging, out, existing, &parent));
    if result.is_err() && staging.exists() {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// Removes what a killed compile into `name` left beside it: a staging directory (a
/// half-written new tree, or the old tree after the swap) whose process is gone.
fn remove_stale_staging(parent: &Utf8Path, name: &str) -> Result<(), WriteError> {
    let prefix = format!(".{name}.lvsdr-staging-");
    for entry in parent.read_dir_utf8().map_err(io(parent))? {
        let entry = entry.map_err(io(parent))?;
        let Some(pid) = entry.file_name().strip_prefix(&prefix) else { continue };
        let dead = pid.parse::<u32>().is_ok_and(|pid| !Utf8Path::new("/proc").join(pid.to_string()).exists());
        if dead && entry.file_type().map_err(io(entry.path()))?.is_dir() {
            fs::remove_dir_all(entry.path()).map_err(io(entry.path()))?;
        }
    }
    Ok(())
}

/// Reads the tree at `out` as it is on disk, for comparison with a compiled one. A
/// symbolic link (never followed) or a file that is not UTF-8 is read as a placeholder
/// text, so that it shows up as a difference instead of an error.
pub fn read_tree(out: &Utf8Path) -> Result<Tree, WriteError> {
    let mut tree = Tree::default();
    let meta = match fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tree),
        Err(e) => return Err(io(out)(e)),
    };
    if !meta.is_dir() {
        return Err(WriteError::Foreign { out: out.to_owned(), reason: "it is not a directory".into() });
    }
    let mut paths = BTreeSet::new();
    list_files(out, out, &mut paths)?;
    for relative in paths {
        let path = out.join(&relative);
        let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
        let contents = if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).map_err(io(&path))?;
            format!("(a symbolic link to {})\n", target.display())
        } else if meta.is_file() {
            let bytes = fs::read(&path).map_err(io(&path))?;
            String::from_utf8(bytes).unwrap_or_else(|_| "(a file that is not UTF-8 text)\n".into())
        } else {
            "(not a regular file)\n".into()
        };
        tree.files.insert(relative, TreeFile { mode: meta.permissions().mode() & 0o7777, contents });
    }
    Ok(tree)
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
    list_files(out, out, &mut present)?;
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
    let strangers: Vec<&String> = present.difference(&ours).collect();
    if let Some(first) = strangers.first() {
        return Err(foreign(format!(
            "{} file(s) in it were not written by lvsdr (first: {first}); move them away, or compile into another directory",
            strangers.len()
        )));
    }
    Ok(true)
}

/// Collects the relative paths of every non-directory entry below `dir`.
fn list_files(root: &Utf8Path, dir: &Utf8Path, found: &mut BTreeSet<String>) -> Result<(), WriteError> {
    for entry in dir.read_dir_utf8().map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let kind = entry.file_type().map_err(io(entry.path()))?;
        if kind.is_dir() {
            list_files(root, entry.path(), found)?;
        } else {
            // Symlinks are listed, never followed: an index never names one, so they block the swap.
            let relative = entry.path().strip_prefix(root).expect("entries lie below their root");
            found.insert(relative.as_str().to_owned());
        }
    }
    Ok(())
}

fn fill(staging: &Utf8Path, tree: &Tree) -> Result<(), WriteError> {
    make_dir(staging)?;
    let mut made = BTreeSet::new();
    for (relative, file) in &tree.files {
        let path = staging.join(relative);
        let mut ancestors: Vec<&Utf8Path> = path.ancestors().skip(1).take_while(|a| *a != staging).collect();
        ancestors.reverse();
        for dir in ancestors {
            if made.insert(dir.to_owned()) {
                make_dir(dir)?;
            }
        }
        let mut handle = fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(io(&path))?;
        handle.write_all(file.contents.as_bytes()).map_err(io(&path))?;
        handle.set_permissions(fs::Permissions::from_mode(file.mode)).map_err(io(&path))?;
    }
    // One syncfs for the whole staged tree instead of an fsync per file: the tree is on
    // disk before it is swapped in, at a fraction of the cost for large clusters.
    let dir = fs::File::open(staging).map_err(io(staging))?;
    rustix::fs::syncfs(&dir).map_err(|errno| io(staging)(errno.into()))
}

fn make_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::create_dir(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(io(dir))
}

fn sync_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Puts the staged tree at `out`; the old tree, if any, goes away only after.
fn swap_in(staging: &Utf8Path, out: &Utf8Path, existing: bool, parent: &Utf8Path) -> Result<(), WriteError> {
    if !existing {
        fs::rename(staging, out).map_err(io(out))?;
        return sync_dir(parent);
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
            // A filesystem without RENAME_EXCHANGE: two renames, with the old tree kept
            // under a name of its own until the new one is in place.
            let old = parent.join(format!(".{}.lvsdr-old-{}", out.file_name().unwrap_or("out"), std::process::id()));
            fs::rename(out, &old).map_err(io(out))?;
            fs::rename(staging, out).map_err(io(out))?;
            fs::rename(&old, staging).map_err(io(&old))?;
        }
        Err(errno) => return Err(io(out)(errno.into())),
    }
    sync_dir(parent)?;
    // `staging` now holds the previous tree.
    fs::remove_dir_all(staging).map_err(io(staging))
}
