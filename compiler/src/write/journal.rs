//! The journal of an in-place update (`.<OUT>.lvsdr-journal`): which staged files replace
//! which files of OUT and which files go. Written once every staged file is on disk; from
//! then on the new tree is decided, and whoever holds OUT's lock next (the same compile,
//! or the next one after a kill) finishes the update by replaying it. Replaying is
//! idempotent. `compile --check` reads OUT through a pending journal, so that it sees the
//! tree the journal decides, never the half-applied one.

use super::{disk, io, WriteError};
use crate::contract::INDEX_FILE;
use camino::{Utf8Path, Utf8PathBuf};
use std::fs;

const HEADER: &str = "lvsdr-journal 1";

/// An update to OUT.
#[derive(Debug, Default)]
pub struct Journal {
    /// The directory beside OUT that holds the new files, flat, each under a name of
    /// its own (no directories to make and remove for a few changed files).
    pub staging: String,
    /// Files that are new or change: (staged name, path in the tree), `index.json` last
    /// when it changes.
    pub puts: Vec<(String, String)>,
    /// Files that go.
    pub removes: Vec<String>,
}

fn unreadable(path: &Utf8Path, reason: &str) -> WriteError {
    WriteError::Unreadable { out: path.to_owned(), reason: reason.into() }
}

/// A path the journal may name: relative, inside OUT, nothing odd.
fn plain(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && !path.contains(['\n', '\0'])
}

impl Journal {
    pub fn path(parent: &Utf8Path, name: &str) -> Utf8PathBuf {
        disk::beside(parent, name, "journal")
    }

    /// Makes the journal durable: from here the update is decided.
    pub fn commit(&self, parent: &Utf8Path, name: &str) -> Result<(), WriteError> {
        let mut text = format!("{HEADER}\nstaging {}\n", self.staging);
        for (staged, put) in &self.puts {
            text += &format!("put {staged} {put}\n");
        }
        for remove in &self.removes {
            text += &format!("remove {remove}\n");
        }
        text += "end\n";
        let temporary = disk::beside(parent, name, "journal.new");
        let _ = fs::remove_file(&temporary);
        disk::create_file(&temporary, 0o644, text.as_bytes())?;
        fs::File::open(&temporary).and_then(|f| f.sync_all()).map_err(io(&temporary))?;
        let path = Journal::path(parent, name);
        fs::rename(&temporary, &path).map_err(io(&path))?;
        disk::sync_dir(parent)
    }

    /// The pending journal beside OUT, if any. A journal that is not whole was never
    /// committed (it is written under another name and renamed), so it is an error.
    pub fn load(parent: &Utf8Path, name: &str) -> Result<Option<Journal>, WriteError> {
        let path = Journal::path(parent, name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let bad = || unreadable(&path, "its update journal is damaged; remove OUT and compile again");
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(bad());
        }
        let staging = lines.next().and_then(|l| l.strip_prefix("staging ")).ok_or_else(bad)?;
        if !staging.starts_with(&format!(".{name}.lvsdr-staging-")) || staging.contains('/') {
            return Err(bad());
        }
        let mut journal = Journal { staging: staging.to_owned(), ..Journal::default() };
        for line in lines {
            if line == "end" {
                return Ok(Some(journal));
            }
            match line.split_once(' ') {
                Some(("put", rest)) => match rest.split_once(' ') {
                    Some((staged, p)) if plain(staged) && !staged.contains('/') && plain(p) => {
                        journal.puts.push((staged.to_owned(), p.to_owned()))
                    }
                    _ => return Err(bad()),
                },
                Some(("remove", p)) if plain(p) => journal.removes.push(p.to_owned()),
                _ => return Err(bad()),
            }
        }
        Err(bad())
    }

    /// Carries the update out: removes, then puts (`index.json` last), then a flush, then
    /// the journal goes. A put whose staged file is gone was done by an earlier replay.
    pub fn apply(&self, parent: &Utf8Path, name: &str, out: &Utf8Path) -> Result<(), WriteError> {
        for remove in &self.removes {
            let path = out.join(remove);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&path)(e)),
                _ => {}
            }
            remove_empty_parents(out, remove);
        }
        let staging = parent.join(&self.staging);
        let mut made = Vec::new();
        for (staged, put) in &self.puts {
            let from = staging.join(staged);
            let to = out.join(put);
            // Most files replace one in a directory that exists: the directories are made
            // only when the rename says they are missing.
            match fs::rename(&from, &to) {
                Ok(()) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && fs::symlink_metadata(&from).is_err() => continue,
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&to)(e)),
                Err(_) => {}
            }
            disk::make_parents(out, put, &mut made)?;
            fs::rename(&from, &to).map_err(io(&to))?;
        }
        disk::sync_filesystem(out)?;
        let path = Journal::path(parent, name);
        fs::remove_file(&path).map_err(io(&path))?;
        Ok(())
    }

    /// Whether the journal touches `path` or a directory below which `path` lies, so that
    /// a directory it left empty mid-way is not reported.
    pub fn touches_below(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.puts.iter().map(|(_, p)| p).chain(&self.removes).any(|p| p.starts_with(&prefix))
    }

    /// The staged file that replaces `path`, if the journal has one (it may have been
    /// moved into place already).
    pub fn staged(&self, parent: &Utf8Path, path: &str) -> Option<Utf8PathBuf> {
        let (staged, _) = self.puts.iter().find(|(_, p)| p == path)?;
        Some(parent.join(&self.staging).join(staged))
    }

    pub fn puts_index(&self) -> bool {
        self.puts.last().is_some_and(|(_, p)| p == INDEX_FILE)
    }
}

/// Removes the directories above `relative` inside `out` that are now empty.
fn remove_empty_parents(out: &Utf8Path, relative: &str) {
    let mut dir = Utf8Path::new(relative).parent();
    while let Some(d) = dir.filter(|d| !d.as_str().is_empty()) {
        // Stops at the first directory that is not empty (or not there): a file someone
        // else put there keeps its directory.
        if fs::remove_dir(out.join(d)).is_err() && fs::symlink_metadata(out.join(d)).is_ok() {
            break;
        }
        dir = d.parent();
    }
}
