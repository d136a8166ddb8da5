//! File and directory operations with exact modes, and reading a tree back from disk.

use super::{io, WriteError};
use crate::digest::Sha256Stream;
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
    create(path, mode)?.write_all(contents).map_err(io(path))
}

/// Creates a new, empty file with `mode`, never through a symbolic link.
fn create(path: &Utf8Path, mode: u32) -> Result<fs::File, WriteError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(io(path))
}

/// A file's text kept in memory up to this size; beyond it, written out in pieces of it.
const SPOOL_LIMIT: usize = 1 << 20;

/// Takes a file's text as it is rendered and hashes it. A small file stays in memory until
/// `finish` decides whether it is written; a large one (a director's configuration) goes
/// to its file in pieces as it comes, so that it is never whole in memory, and `finish`
/// removes that file again when it is not wanted.
pub struct Spool<'p> {
    path: &'p Utf8Path,
    mode: u32,
    /// What is not yet hashed nor written.
    text: String,
    sha: Sha256Stream,
    file: Option<fs::File>,
    error: Option<WriteError>,
}

impl<'p> Spool<'p> {
    /// A spool for the new file `path` with `mode`, over `buffer` (empty; reused across files).
    pub fn new(path: &'p Utf8Path, mode: u32, buffer: String) -> Spool<'p> {
        Spool { path, mode, text: buffer, sha: Sha256Stream::default(), file: None, error: None }
    }

    fn spill(&mut self) -> Result<(), WriteError> {
        self.sha.update(self.text.as_bytes());
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(create(self.path, self.mode)?),
        };
        file.write_all(self.text.as_bytes()).map_err(io(self.path))?;
        self.text.clear();
        Ok(())
    }

    /// Why rendering into the spool stopped: the write that failed.
    pub fn failure(&mut self) -> WriteError {
        self.error.take().unwrap_or_else(|| io(self.path)(std::io::Error::other("the text could not be rendered")))
    }

    /// Ends the file: `wanted` sees its SHA-256 and says whether the file is wanted; if so,
    /// the rest is written (the file made now if it never outgrew memory), else a file
    /// already begun is removed. Returns the SHA-256, whether it was written, and the
    /// buffer, emptied, for the next file.
    pub fn finish(mut self, wanted: impl FnOnce(&str) -> bool) -> Result<(String, bool, String), WriteError> {
        let mut sha = std::mem::take(&mut self.sha);
        sha.update(self.text.as_bytes());
        let sha = sha.finish();
        let keep = wanted(&sha);
        match (keep, &mut self.file) {
            (true, None) => create_file(self.path, self.mode, self.text.as_bytes())?,
            (true, Some(file)) => file.write_all(self.text.as_bytes()).map_err(io(self.path))?,
            (false, None) => {}
            (false, Some(_)) => fs::remove_file(self.path).map_err(io(self.path))?,
        }
        self.text.clear();
        Ok((sha, keep, self.text))
    }
}

impl std::fmt::Write for Spool<'_> {
    fn write_str(&mut self, piece: &str) -> std::fmt::Result {
        self.text.push_str(piece);
        if self.text.len() >= SPOOL_LIMIT {
            if let Err(error) = self.spill() {
                self.error = Some(error);
                return Err(std::fmt::Error);
            }
        }
        Ok(())
    }
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

/// Files `read_into` left unread for being large: path in the tree → path on disk.
pub type Large = std::collections::BTreeMap<String, Utf8PathBuf>;

/// Larger files are compared as they stream, when the reader allows it (`Large`).
const READ_WHOLE_UP_TO: u64 = 1 << 20;

/// Reads what lies at `root/relative` (a directory or a file) into `tree`, under paths
/// relative to `root`, as `compile --check` compares it: a file owned by someone else
/// than `owner`, a symbolic link (never followed), something that is not a file, or a
/// file that is not UTF-8 is a placeholder text, so that it shows up as a difference; a
/// directory that is empty or of a mode other than `DIR_MODE` is an entry `dir/`. Given
/// `large`, a regular file of the owner's larger than `READ_WHOLE_UP_TO` is not read: its
/// entry has empty text, and `large` says where it lies, for a comparison as it streams.
pub fn read_into(
    root: &Utf8Path,
    relative: &str,
    owner: u32,
    tree: &mut Tree,
    mut large: Option<&mut Large>,
) -> Result<(), WriteError> {
    let path = root.join(relative);
    match fs::symlink_metadata(&path) {
        Ok(meta) => read_entry(root, relative, meta.is_dir(), owner, tree, &mut large),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(&path)(e)),
    }
}

/// `read_into` for an entry whose type the directory listing already gave.
fn read_entry(
    root: &Utf8Path,
    relative: &str,
    is_dir: bool,
    owner: u32,
    tree: &mut Tree,
    large: &mut Option<&mut Large>,
) -> Result<(), WriteError> {
    let path = root.join(relative);
    if !is_dir {
        let (file, whole) = read_file(&path, owner, root, large.is_some())?;
        if let (false, Some(large)) = (whole, large) {
            large.insert(relative.to_owned(), path);
        }
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
        read_entry(root, &child, is_dir, owner, tree, large)?;
    }
    Ok(())
}

/// One file as `compile --check` compares it, in four system calls for a regular file
/// (open without following a link, fstat, read, close), and whether it was read whole:
/// with `leave_large`, a large regular file of the owner's is left unread (empty text).
pub fn read_file(
    path: &Utf8Path,
    owner: u32,
    root: &Utf8Path,
    leave_large: bool,
) -> Result<(TreeFile, bool), WriteError> {
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
            let file = TreeFile {
                mode: meta.permissions().mode() & 0o7777,
                contents: format!("(a symbolic link to {})\n", target.display()),
            };
            return Ok((file, true));
        }
        Err(e) => return Err(io(path)(e)),
    };
    let meta = file.metadata().map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o7777;
    let uid = meta.uid();
    if leave_large && uid == owner && meta.is_file() && meta.len() > READ_WHOLE_UP_TO {
        return Ok((TreeFile { mode, contents: String::new() }, false));
    }
    let contents = if uid != owner {
        format!("(a file owned by uid {uid}, not by {root}'s owner {owner})\n")
    } else if meta.is_file() {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&mut file).take(meta.len()).read_to_end(&mut bytes).map_err(io(path))?;
        String::from_utf8(bytes).unwrap_or_else(|_| "(a file that is not UTF-8 text)\n".into())
    } else {
        "(not a regular file)\n".into()
    };
    Ok((TreeFile { mode, contents }, true))
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
