//! `compile --check`: OUT on disk compared with the compiled tree, host by host on every
//! core, reading OUT through a pending update journal. Writes nothing and takes no lock.

use super::journal::Journal;
use super::{disk, io, locate, parallel, WriteError};
use crate::contract::{Index, INDEX_FILE};
use crate::model::Cluster;
use crate::review::{self, FileChange};
use crate::tree::{self, IndexWriter, Role, Tree, TreeFile};
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
    /// Reads `relative` (a host's directory, or a stray) as the journal decides it.
    fn read(&self, relative: &str, tree: &mut Tree) -> Result<(), WriteError> {
        disk::read_into(self.out, relative, self.owner, tree)?;
        let Some(journal) = &self.journal else { return Ok(()) };
        let prefix = format!("{relative}/");
        let below = |path: &str| path.starts_with(&prefix);
        for remove in journal.removes.iter().filter(|p| below(p)) {
            tree.files.remove(remove);
        }
        for (staged, put) in journal.puts.iter().filter(|(_, p)| below(p)) {
            // Still staged: not yet moved into place, so the staged file is the new one.
            let mut staged_tree = Tree::default();
            disk::read_into(&self.parent.join(&journal.staging), staged, self.owner, &mut staged_tree)?;
            if let Some((_, file)) = staged_tree.files.into_iter().next() {
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
        |n| {
            let host = tree::host(cluster, n);
            let mut on_disk = Tree::default();
            if present {
                disk.read(&host.name, &mut on_disk)?;
            }
            let owner = match host.role {
                Role::Director => review::Owner::Director(host.name.clone()),
                Role::RealServer => review::Owner::RealServer(host.name.clone()),
            };
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
                disk.read(entry.file_name(), &mut strays)?;
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

/// Compares the compiled `index.json`, given in pieces, with the one on disk as the pieces
/// come, so that neither is held whole unless they differ.
struct IndexCompare {
    file: Option<std::io::BufReader<fs::File>>,
    /// Bytes of the compiled index equal to the file's so far.
    matched: usize,
    /// The compiled index from the first piece that differs.
    diverged: Option<String>,
    buffer: Vec<u8>,
}

impl IndexCompare {
    fn open(path: Option<camino::Utf8PathBuf>) -> IndexCompare {
        let file = path.and_then(|path| {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .read(true)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(path)
                .ok()
                .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
        });
        IndexCompare {
            file: file.map(|f| std::io::BufReader::with_capacity(1 << 16, f)),
            matched: 0,
            diverged: None,
            buffer: Vec::new(),
        }
    }

    fn feed(&mut self, piece: &str) {
        if let Some(diverged) = &mut self.diverged {
            diverged.push_str(piece);
            return;
        }
        self.buffer.resize(piece.len(), 0);
        let same = self.file.as_mut().is_some_and(|f| f.read_exact(&mut self.buffer).is_ok())
            && self.buffer == piece.as_bytes();
        if same {
            self.matched += piece.len();
        } else {
            self.diverged = Some(piece.to_owned());
        }
    }

    /// The on-disk index's mode when it has the compiled bytes; else the compiled index in
    /// full, for a diff.
    fn finish(mut self, disk: &OnDisk<'_>) -> Result<(Option<u32>, Option<String>), WriteError> {
        if self.diverged.is_none() {
            let mut extra = [0u8; 1];
            let at_end = self.file.as_mut().is_some_and(|f| matches!(f.read(&mut extra), Ok(0)));
            if at_end {
                let mode = self.file.as_ref().and_then(|f| f.get_ref().metadata().ok()).map(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o7777
                });
                return Ok((mode, None));
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
            disk::read_into(dir, INDEX_FILE, disk.owner, &mut tree)?;
        } else {
            disk.read(entry.file_name(), &mut tree)?;
        }
    }
    Ok(tree)
}
