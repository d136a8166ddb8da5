//! File and directory operations with exact modes, and reading a tree back from disk.

use super::{io, WriteError};
use crate::tree::{Tree, TreeFile};
use camino::{Utf8Path, Utf8PathBuf};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

/// Every directory lvsdr makes has this mode.
pub const DIR_MODE: u32 = 0o755;

/// Sets the process's umask to 0 while alive, so that every file and directory is created
/// with exactly its final mode, never wider, and needs no chmod. Restores it when dropped.
pub struct ExactModes(rustix::fs::Mode);

impl ExactModes {
    pub fn begin() -> ExactModes {
        ExactModes(rustix::process::umask(rustix::fs::Mode::empty()))
    }
}

impl Drop for ExactModes {
    fn drop(&mut self) {
        rustix::process::umask(self.0);
    }
}

/// Creates a new file with `mode` and `contents`; never opens an existing one. The
/// caller holds `ExactModes`, so the mode is exact from the start.
pub fn create_file(path: &Utf8Path, mode: u32, contents: &[u8]) -> Result<(), WriteError> {
    let mut handle = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(io(path))?;
    handle.write_all(contents).map_err(io(path))
}

/// Makes the directories from `root` down to `path`'s parent that do not exist yet, with
/// `DIR_MODE` (the caller holds `ExactModes`). `made` remembers the ones made or seen, to skip them next time.
pub fn make_parents(root: &Utf8Path, relative: &str, made: &mut Vec<String>) -> Result<(), WriteError> {
    let mut end = 0;
    while let Some(slash) = relative[end..].find('/') {
        end += slash;
        let dir = &relative[..end];
        end += 1;
        if made.iter().any(|m| m == dir) {
            continue;
        }
        let path = root.join(dir);
        match fs::DirBuilder::new().mode(DIR_MODE).create(&path) {
            Ok(()) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::AlreadyExists
                    && fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) => {}
            Err(e) => return Err(io(&path)(e)),
        }
        made.push(dir.to_owned());
    }
    Ok(())
}

/// Makes one directory with `DIR_MODE`.
pub fn make_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::DirBuilder::new().mode(DIR_MODE).create(dir).map_err(io(dir))
}

pub fn sync_dir(dir: &Utf8Path) -> Result<(), WriteError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Flushes the whole filesystem that holds `dir`: one call for a tree of any size,
/// instead of an fsync per file.
pub fn sync_filesystem(dir: &Utf8Path) -> Result<(), WriteError> {
    let handle = fs::File::open(dir).map_err(io(dir))?;
    rustix::fs::syncfs(&handle).map_err(|errno| io(dir)(errno.into()))
}

/// Reads what lies at `root/relative` (a directory or a file) into `tree`, under paths
/// relative to `root`, as `compile --check` compares it: a file owned by someone else
/// than `owner`, a symbolic link (never followed), something that is not a file, or a
/// file that is not UTF-8 is a placeholder text, so that it shows up as a difference; a
/// directory that is empty or of a mode other than `DIR_MODE` is an entry `dir/`.
pub fn read_into(root: &Utf8Path, relative: &str, owner: u32, tree: &mut Tree) -> Result<(), WriteError> {
    let path = root.join(relative);
    match fs::symlink_metadata(&path) {
        Ok(meta) => read_entry(root, relative, meta.is_dir(), owner, tree),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&path)(e)),
    }
}

/// `read_into` for an entry whose type the directory listing already gave.
fn read_entry(root: &Utf8Path, relative: &str, is_dir: bool, owner: u32, tree: &mut Tree) -> Result<(), WriteError> {
    let path = root.join(relative);
    if !is_dir {
        let file = read_file(&path, owner, root)?;
        tree.files.insert(relative.to_owned(), file);
        return Ok(());
    }
    // Open, fstat, list, close: the listing gives each entry's type on most filesystems.
    let errno = |e: rustix::io::Errno| io(&path)(e.into());
    let flags = rustix::fs::OFlags::RDONLY
        | rustix::fs::OFlags::DIRECTORY
        | rustix::fs::OFlags::NOFOLLOW
        | rustix::fs::OFlags::CLOEXEC;
    let fd = rustix::fs::open(path.as_std_path(), flags, rustix::fs::Mode::empty()).map_err(errno)?;
    let mode = rustix::fs::fstat(&fd).map_err(errno)?.st_mode & 0o7777;
    let mut entries: Vec<(String, bool)> = Vec::new();
    let mut listing = rustix::fs::Dir::new(fd).map_err(errno)?;
    while let Some(entry) = listing.read() {
        let entry = entry.map_err(errno)?;
        let name =
            entry.file_name().to_str().map_err(|_| io(&path)(std::io::Error::other("a name that is not UTF-8")))?;
        if name == "." || name == ".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            rustix::fs::FileType::Unknown => fs::symlink_metadata(path.join(name)).map_err(io(&path))?.is_dir(),
            kind => kind == rustix::fs::FileType::Directory,
        };
        entries.push((name.to_owned(), is_dir));
    }
    if !relative.is_empty() && (entries.is_empty() || mode != DIR_MODE) {
        let what = if entries.is_empty() {
            "an empty directory".to_owned()
        } else {
            format!("a directory of mode {mode:04o}")
        };
        tree.files.insert(format!("{relative}/"), TreeFile { mode, contents: format!("({what})\n") });
    }
    for (name, is_dir) in entries {
        let child = if relative.is_empty() { name } else { format!("{relative}/{name}") };
        read_entry(root, &child, is_dir, owner, tree)?;
    }
    Ok(())
}

/// One file as `compile --check` compares it, in four system calls for a regular file
/// (open without following a link, fstat, read, close).
fn read_file(path: &Utf8Path, owner: u32, root: &Utf8Path) -> Result<TreeFile, WriteError> {
    use std::io::Read;
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(
            (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32
        )
        .open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            let meta = fs::symlink_metadata(path).map_err(io(path))?;
            let target = fs::read_link(path).map_err(io(path))?;
            return Ok(TreeFile {
                mode: meta.permissions().mode() & 0o7777,
                contents: format!("(a symbolic link to {})\n", target.display()),
            });
        }
        Err(e) => return Err(io(path)(e)),
    };
    let meta = file.metadata().map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o7777;
    let uid = meta.uid();
    let contents = if uid != owner {
        format!("(a file owned by uid {uid}, not by {root}'s owner {owner})\n")
    } else if meta.is_file() {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&mut file).take(meta.len()).read_to_end(&mut bytes).map_err(io(path))?;
        String::from_utf8(bytes).unwrap_or_else(|_| "(a file that is not UTF-8 text)\n".into())
    } else {
        "(not a regular file)\n".into()
    };
    Ok(TreeFile { mode, contents })
}

/// The owner of `path`.
pub fn owner(path: &Utf8Path) -> Result<u32, WriteError> {
    Ok(fs::symlink_metadata(path).map_err(io(path))?.uid())
}

/// Every directory below `root`: relative path, mode, and whether it is empty.
pub fn list_dirs(root: &Utf8Path) -> Result<Vec<(String, u32, bool)>, WriteError> {
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

/// The relative paths of every non-directory entry below `dir`.
pub fn list_files(
    root: &Utf8Path,
    dir: &Utf8Path,
    found: &mut std::collections::BTreeSet<String>,
) -> Result<(), WriteError> {
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

/// `parent/.<name>.lvsdr-<what>`: the files and directories lvsdr keeps beside OUT.
pub fn beside(parent: &Utf8Path, name: &str, what: &str) -> Utf8PathBuf {
    parent.join(format!(".{name}.lvsdr-{what}"))
}
