//! `compile --check`: OUT on disk compared with the compiled tree, host by host on every
//! core, reading OUT through a pending update journal. Writes nothing and takes no lock.

use super::disk::{self, Large};
use super::journal::Journal;
use super::{io, locate, parallel, WriteError};
use crate::contract::{Index, Role, INDEX_FILE};
use crate::digest::{sha256_hex, Sha256Stream};
use crate::model::Cluster;
use crate::review::{self, FileChange};
use crate::tree::{self, Contents, HostFile, IndexWriter, Placed, Sink, Tree, TreeFile};
use camino::Utf8Path;
use rustc_hash::FxHashSet;
use std::fs;
use std::io::Read;

/// OUT as `check` finds it.
struct OnDisk<'a> {
    out: &'a Utf8Path,
    parent: &'a Utf8Path,
    owner: u32,
    journal: Option<Journal>,
}

impl OnDisk<'_> {
    /// Reads `relative` (a host's directory, or a stray) as the journal decides it; large
    /// files only into `large`, when given (see `disk::read_into`).
    fn read(&self, relative: &str, tree: &mut Tree, mut large: Option<&mut Large>) -> Result<(), WriteError> {
        disk::read_into(self.out, relative, self.owner, tree, large.as_deref_mut())?;
        let Some(journal) = &self.journal else { return Ok(()) };
        let prefix = format!("{relative}/");
        let below = |path: &str| path.starts_with(&prefix);
        for remove in journal.removes.iter().filter(|p| below(p)) {
            tree.files.remove(remove);
            if let Some(large) = large.as_deref_mut() {
                large.remove(remove);
            }
        }
        for (staged, put) in journal.puts.iter().filter(|(_, p)| below(p)) {
            // Still staged: not yet moved into place, so the staged file is the new one.
            let mut staged_tree = Tree::default();
            let mut staged_large = Large::new();
            let root = self.parent.join(&journal.staging);
            disk::read_into(&root, staged, self.owner, &mut staged_tree, Some(&mut staged_large))?;
            if let Some(large) = large.as_deref_mut() {
                large.remove(put);
            }
            if let Some((_, file)) = staged_tree.files.into_iter().next() {
                match (staged_large.remove(staged.as_str()), large.as_deref_mut()) {
                    (Some(path), Some(large)) => {
                        large.insert(put.clone(), path);
                    }
                    (Some(path), None) => {
                        tree.files.insert(put.clone(), disk::read_file(&path, self.owner, &root, false)?.0);
                        continue;
                    }
                    (None, _) => {}
                }
                tree.files.insert(put.clone(), file);
            }
        }
        // A directory the update empties or fills is not yet as it will be.
        tree.files.retain(|path, _| !(path.ends_with('/') && journal.touches_below(path.trim_end_matches('/'))));
        Ok(())
    }

    /// The path `index.json` is read from: the staged one while the journal replaces it.
    fn index_path(&self) -> camino::Utf8PathBuf {
        match &self.journal {
            Some(journal) if journal.puts_index() => journal
                .staged(self.parent, INDEX_FILE)
                .filter(|staged| staged.exists())
                .unwrap_or_else(|| self.out.join(INDEX_FILE)),
            _ => self.out.join(INDEX_FILE),
        }
    }
}

/// Every difference between OUT and the tree `cluster` compiles to, as `review::compare`
/// reports them.
pub fn check(cluster: &Cluster, out: &Utf8Path) -> Result<Vec<FileChange>, WriteError> {
    let (out, parent, name) = locate(out)?;
    let present = match fs::symlink_metadata(&out) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => return Err(WriteError::Unreadable { out: out.clone(), reason: "it is not a directory".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(&out)(e)),
    };
    let disk = OnDisk {
        out: &out,
        parent: &parent,
        owner: if present { disk::owner(&out)? } else { 0 },
        journal: if present { Journal::load(&parent, &name)? } else { None },
    };
    let mut index = IndexCompare::open(present.then(|| disk.index_path()));
    let mut append = |piece: &str| index.feed(piece);
    let mut writer = IndexWriter::new(cluster, &mut append);
    let mut changes = Vec::new();
    let mut hosts = FxHashSet::default();
    parallel::in_order(
        tree::hosts(cluster),
        tree::directors(cluster),
        |n| {
            let mut on_disk = Tree::default();
            let mut large = Large::new();
            if present {
                disk.read(crate::plan::host_name(cluster, n).as_str(), &mut on_disk, Some(&mut large))?;
            }
            let mut comparer = Comparer { on_disk: &mut on_disk, large: &mut large, owner: disk.owner, out: disk.out };
            let host = tree::host_into(cluster, n, &mut comparer)?;
            // A large file the host no longer has is shown whole, as it is removed.
            for (relative, path) in std::mem::take(&mut large) {
                on_disk.files.insert(relative, disk::read_file(&path, disk.owner, disk.out, false)?.0);
            }
            let owner = review::Owner::Host(host.role, host.name.clone());
            let mut compiled = Tree::default();
            let mut ids = rustc_hash::FxHashMap::default();
            for file in host.files {
                ids.insert(file.path.clone(), file.id);
                compiled.files.insert(file.path, file.file);
            }
            let found = review::compare_named(&on_disk, &compiled, false, |path| {
                ids.get(path).map(|id| (owner.clone(), Some(id.clone())))
            });
            Ok::<_, WriteError>((host.role, host.name, host.entry, found))
        },
        |(role, name, entry, found): (Role, String, String, Vec<FileChange>)| {
            writer.entry(role, &entry, &mut append);
            hosts.insert(name);
            changes.extend(found);
            Ok(())
        },
    )?;
    writer.finish(cluster, &mut append);
    // What lies in OUT outside the cluster's hosts: strays, and hosts the manifest dropped.
    if present {
        let mut strays = Tree::default();
        for entry in out.read_dir_utf8().map_err(io(&out))? {
            let entry = entry.map_err(io(&out))?;
            if entry.file_name() != INDEX_FILE && !hosts.contains(entry.file_name()) {
                disk.read(entry.file_name(), &mut strays, None)?;
            }
        }
        changes.extend(review::compare_named(&strays, &Tree::default(), false, |_| None));
    }
    let (old_index, new_index) = index.finish(&disk)?;
    if let Some(new_index) = new_index {
        let single = |contents: Option<String>| Tree {
            files: contents
                .map(|contents| (INDEX_FILE.to_owned(), TreeFile { mode: crate::contract::CONFIG_MODE, contents }))
                .into_iter()
                .collect(),
        };
        let mut old = single(None);
        if present {
            disk::read_into(
                disk.index_path().parent().expect("index.json lies in a directory"),
                INDEX_FILE,
                disk.owner,
                &mut old,
                None,
            )?;
        }
        changes.extend(review::compare_named(&old, &single(Some(new_index)), true, |_| None));
    } else if let Some(mode) = old_index {
        // Same bytes; the mode may still differ.
        if mode != crate::contract::CONFIG_MODE {
            let file =
                |mode| Tree { files: [(INDEX_FILE.to_owned(), TreeFile { mode, contents: String::new() })].into() };
            changes.extend(review::compare_named(&file(mode), &file(crate::contract::CONFIG_MODE), true, |_| None));
        }
    }
    // Files only on disk are named by the index on disk, as a review of the old tree would.
    if changes.iter().any(|c| c.host == review::Owner::Tree && c.path != INDEX_FILE) {
        let text = fs::read_to_string(disk.index_path()).unwrap_or_default();
        if let Ok(index) = serde_json::from_str::<Index>(&text) {
            review::name_from(&index, &mut changes);
        }
    }
    review::sort(&mut changes);
    Ok(changes)
}

/// The sink that compares one host's compiled files with OUT's. Small files are rendered
/// whole, as `review` compares them; a file that is large on disk is compared as it
/// renders, and only read and rendered whole when the two differ, for the diff.
struct Comparer<'a> {
    /// The host's files on disk, a large one with empty text.
    on_disk: &'a mut Tree,
    /// Where the large files lie; each leaves the map once compared.
    large: &'a mut Large,
    owner: u32,
    out: &'a Utf8Path,
}

impl Sink for Comparer<'_> {
    /// Path in the tree, artifact id, the file.
    type File = HostFile;
    type Error = WriteError;

    fn put(&mut self, file: &Placed<'_>, contents: &Contents<'_>) -> Result<(String, HostFile), WriteError> {
        let kept = |sha256: String, text: String| {
            let path = file.path.to_owned();
            let kept =
                HostFile { path, id: file.id.to_owned(), file: TreeFile { mode: file.mode, contents: text }, sha256 };
            Ok((kept.sha256.clone(), kept))
        };
        if let Some(path) = self.large.remove(file.path) {
            let mut same = SameAs { file: FileCompare::open(Some(&path)), sha: Sha256Stream::default() };
            if contents.render_into(&mut same).is_ok() && same.file.at_end() {
                // Equal bytes: both sides keep the empty text, and only modes are compared.
                return kept(same.sha.finish(), String::new());
            }
            let (whole, _) = disk::read_file(&path, self.owner, self.out, false)?;
            self.on_disk.files.insert(file.path.to_owned(), whole);
        }
        let text = contents.render();
        kept(sha256_hex(&text), text)
    }
}

/// Text written into it is compared with a file as it comes, and hashed; it stops
/// rendering at the first difference.
struct SameAs {
    file: FileCompare,
    sha: Sha256Stream,
}

impl std::fmt::Write for SameAs {
    fn write_str(&mut self, piece: &str) -> std::fmt::Result {
        self.sha.update(piece.as_bytes());
        if self.file.matches(piece.as_bytes()) {
            Ok(())
        } else {
            Err(std::fmt::Error)
        }
    }
}

/// A file read along with text given in pieces, to see whether they are the same bytes.
struct FileCompare {
    file: Option<std::io::BufReader<fs::File>>,
    buffer: Vec<u8>,
}

impl FileCompare {
    /// The regular file at `path`, never through a link; a missing one matches nothing.
    fn open(path: Option<&Utf8Path>) -> FileCompare {
        let file = path.and_then(|path| {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .read(true)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(path)
                .ok()
                .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
        });
        FileCompare { file: file.map(|f| std::io::BufReader::with_capacity(1 << 16, f)), buffer: Vec::new() }
    }

    /// Whether the file's next bytes are `piece`.
    fn matches(&mut self, piece: &[u8]) -> bool {
        self.buffer.resize(piece.len(), 0);
        self.file.as_mut().is_some_and(|f| f.read_exact(&mut self.buffer).is_ok()) && self.buffer == piece
    }

    /// Whether the file has no more bytes.
    fn at_end(&mut self) -> bool {
        let mut extra = [0u8; 1];
        self.file.as_mut().is_some_and(|f| matches!(f.read(&mut extra), Ok(0)))
    }

    fn mode(&self) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        self.file.as_ref().and_then(|f| f.get_ref().metadata().ok()).map(|m| m.permissions().mode() & 0o7777)
    }
}

/// Compares the compiled `index.json`, given in pieces, with the one on disk as the pieces
/// come, so that neither is held whole unless they differ.
struct IndexCompare {
    file: FileCompare,
    /// Bytes of the compiled index equal to the file's so far.
    matched: usize,
    /// The compiled index from the first piece that differs.
    diverged: Option<String>,
}

impl IndexCompare {
    fn open(path: Option<camino::Utf8PathBuf>) -> IndexCompare {
        IndexCompare { file: FileCompare::open(path.as_deref()), matched: 0, diverged: None }
    }

    fn feed(&mut self, piece: &str) {
        if let Some(diverged) = &mut self.diverged {
            diverged.push_str(piece);
        } else if self.file.matches(piece.as_bytes()) {
            self.matched += piece.len();
        } else {
            self.diverged = Some(piece.to_owned());
        }
    }

    /// The on-disk index's mode when it has the compiled bytes; else the compiled index in
    /// full, for a diff.
    fn finish(mut self, disk: &OnDisk<'_>) -> Result<(Option<u32>, Option<String>), WriteError> {
        if self.diverged.is_none() {
            if self.file.at_end() {
                return Ok((self.file.mode(), None));
            }
            self.diverged = Some(String::new());
        }
        let mut compiled = String::new();
        if self.matched > 0 {
            let path = disk.index_path();
            let bytes = fs::read(&path).map_err(io(&path))?;
            compiled.push_str(std::str::from_utf8(&bytes[..self.matched]).map_err(|_| WriteError::Unreadable {
                out: path.clone(),
                reason: "its index.json changed while it was compared".into(),
            })?);
        }
        compiled.push_str(&self.diverged.unwrap_or_default());
        Ok((None, Some(compiled)))
    }
}

/// Reads the tree at `out` as it is on disk (through a pending journal), for comparison
/// with a compiled one; see `disk::read_into` for what is read how.
pub fn read_tree(out: &Utf8Path) -> Result<Tree, WriteError> {
    let (out, parent, name) = locate(out)?;
    let mut tree = Tree::default();
    match fs::symlink_metadata(&out) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(WriteError::Unreadable { out: out.clone(), reason: "it is not a directory".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tree),
        Err(e) => return Err(io(&out)(e)),
    }
    let disk =
        OnDisk { out: &out, parent: &parent, owner: disk::owner(&out)?, journal: Journal::load(&parent, &name)? };
    for entry in out.read_dir_utf8().map_err(io(&out))? {
        let entry = entry.map_err(io(&out))?;
        if entry.file_name() == INDEX_FILE {
            let index_path = disk.index_path();
            let dir = index_path.parent().expect("index.json lies in a directory");
            disk::read_into(dir, INDEX_FILE, disk.owner, &mut tree, None)?;
        } else {
            disk.read(entry.file_name(), &mut tree, None)?;
        }
    }
    Ok(tree)
}
