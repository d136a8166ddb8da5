//! Write: puts a `Tree` on disk as `OUT`, atomically, with exact modes, never over foreign
//! files; and reads an `OUT` back for `compile --check`.
//!
//! The new tree is built in a staging directory beside `OUT` and swapped in with one
//! `renameat2(RENAME_EXCHANGE)`, so a reader (or a crash) sees the old tree or the new
//! one, never a mix. An existing `OUT` is replaced only when it is empty or when every
//! file in it is listed in its own lvsdr `index.json` and every directory in it holds
//! such a file.
//!
//! One compile at a time writes an `OUT`: an exclusive `flock` on `.<OUT>.lvsdr-lock`
//! beside it, held from the first look at `OUT` to the end. Whatever a killed compile
//! left beside `OUT` is therefore dead once the lock is ours, whatever PID namespace it
//! ran in: its staging directory is removed, and a tree it had moved aside without
//! RENAME_EXCHANGE (the three-rename fallback) is put back or removed. Everything that
//! can fail is done before the swap; after it, a failed clean-up is a warning.

use crate::contract::{Index, GENERATOR, INDEX_FILE};
use crate::tree::{Tree, TreeFile};
use camino::{Utf8Path, Utf8PathBuf};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

const DIR_MODE: u32 = 0o755;

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
        }
    }
}

fn io(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |error| WriteError::Io { path: path.to_owned(), error }
}

/// Writes `tree` as the directory `out`, replacing a previous lvsdr tree there. The
/// warnings are what could not be cleaned up after the new tree was in place.
pub fn write_tree(tree: &Tree, out: &Utf8Path) -> Result<Vec<String>, WriteError> {
    let out = &normalize(out);
    let name = out.file_name().ok_or_else(|| WriteError::Foreign {
        out: out.to_owned(),
        reason: "the output path has no directory name".into(),
    })?;
    let parent = match out.parent() {
        Some(p) if !p.as_str().is_empty() => p.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let _lock = lock(&parent, name, out)?;
    recover(&parent, name, out)?;
    let existing = check_replaceable(out)?;
    let staging = parent.join(format!(".{name}.lvsdr-staging-{}", std::process::id()));
    let result = fill(&staging, tree).and_then(|()| swap_in(&staging, out, existing, &parent));
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
    let path = parent.join(format!(".{name}.lvsdr-lock"));
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

/// With the lock held, what a killed compile left beside `OUT` is dead: a staging
/// directory goes; a tree moved aside by the rename fallback goes back to `OUT` when
/// `OUT` is missing (killed between the first two renames), and goes away otherwise.
fn recover(parent: &Utf8Path, name: &str, out: &Utf8Path) -> Result<(), WriteError> {
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
            sync_dir(parent)?;
        } else if file_name.starts_with(&aside) || file_name.starts_with(&staging) {
            fs::remove_dir_all(&path).map_err(io(&path))?;
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
        return Err(WriteError::Unreadable { out: out.to_owned(), reason: "it is not a directory".into() });
    }
    let mut paths = BTreeSet::new();
    list_files(out, out, &mut paths)?;
    // Directories the writer would not have made as they are: empty, or another mode.
    for (relative, mode, empty) in list_dirs(out)? {
        if empty || mode != DIR_MODE {
            let what = if empty { "an empty directory".to_owned() } else { format!("a directory of mode {mode:04o}") };
            tree.files.insert(format!("{relative}/"), TreeFile { mode, contents: format!("({what})\n") });
        }
    }
    // Files owned by someone else than OUT's owner were not written by the writer.
    let owner = std::os::unix::fs::MetadataExt::uid(&meta);
    for relative in paths {
        let path = out.join(&relative);
        let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
        let uid = std::os::unix::fs::MetadataExt::uid(&meta);
        let contents = if uid != owner {
            format!("(a file owned by uid {uid}, not by {out}'s owner {owner})\n")
        } else if meta.file_type().is_symlink() {
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
    // A directory holding none of the listed files would be lost in the swap.
    let needed: BTreeSet<String> = ours
        .iter()
        .flat_map(|path| Utf8Path::new(path).ancestors().skip(1).map(|a| a.as_str().to_owned()).collect::<Vec<_>>())
        .filter(|a| !a.is_empty())
        .collect();
    if let Some((stray, _, _)) = list_dirs(out)?.into_iter().find(|(relative, _, _)| !needed.contains(relative)) {
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

/// Every directory below `root`: relative path, mode, and whether it is empty.
fn list_dirs(root: &Utf8Path) -> Result<Vec<(String, u32, bool)>, WriteError> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in dir.read_dir_utf8().map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            if entry.file_type().map_err(io(entry.path()))?.is_dir() {
                let path = entry.path().to_owned();
                let meta = fs::symlink_metadata(&path).map_err(io(&path))?;
                let empty = path.read_dir_utf8().map_err(io(&path))?.next().is_none();
                let relative = path.strip_prefix(root).expect("entries lie below their root").as_str().to_owned();
                found.push((relative, meta.permissions().mode() & 0o7777, empty));
                stack.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
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
        // Created with its final mode (or narrower, by the umask), never wider: no other
        // user can open a 0600 file in the moment before its mode is set exactly.
        let mut handle =
            fs::OpenOptions::new().write(true).create_new(true).mode(file.mode).open(&path).map_err(io(&path))?;
        handle.write_all(file.contents.as_bytes()).map_err(io(&path))?;
        handle.set_permissions(fs::Permissions::from_mode(file.mode)).map_err(io(&path))?;
    }
    // One syncfs for the whole staged tree instead of an fsync per file: the tree is on
    // disk before it is swapped in, at a fraction of the cost for large clusters.
    let dir = fs::File::open(staging).map_err(io(staging))?;
    rustix::fs::syncfs(&dir).map_err(|errno| io(staging)(errno.into()))
}

fn make_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::DirBuilder::new().mode(DIR_MODE).create(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(io(dir))
}

fn sync_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Puts the staged tree at `out`; the old tree, if any, goes away only after. Once the
/// new tree is in place the compile has succeeded: a failed clean-up is a warning.
fn swap_in(staging: &Utf8Path, out: &Utf8Path, existing: bool, parent: &Utf8Path) -> Result<Vec<String>, WriteError> {
    if !existing {
        fs::rename(staging, out).map_err(io(out))?;
        return Ok(sync_dir(parent).err().map(|e| format!("the new tree is in place, but {e}")).into_iter().collect());
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
    if let Err(e) = sync_dir(parent) {
        warnings.push(format!("the new tree is in place, but {e}"));
    }
    // `staging` now holds the previous tree.
    if let Err(e) = fs::remove_dir_all(staging) {
        warnings.push(format!("the new tree is in place; the old one stays at {staging} ({e}) until the next compile"));
    }
    Ok(warnings)
}
