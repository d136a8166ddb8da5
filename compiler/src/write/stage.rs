//! Stage: renders every host into a staging directory beside OUT, on every core, each file
//! written as it renders, with `index.json` streamed after them and every file recorded.

use super::disk::{self, Spool};
use super::{io, parallel, record, WriteError};
use crate::contract::{Role, CONFIG_MODE, INDEX_FILE};
use crate::digest::Sha256Stream;
use crate::model::Cluster;
use crate::tree::{self, Contents, IndexWriter, Placed, Sink};
use camino::Utf8Path;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::Ordering;

/// What one host gives back to the thread that writes the index and the record: its
/// index entry, its files (path, mode, checksum) and those it staged (staged name, path).
struct HostStaged {
    role: Role,
    entry: String,
    files: Vec<(String, u32, String)>,
    puts: Vec<(String, String)>,
}

/// Renders every host into `staging` and records every file: without a record, the whole
/// tree at its paths; with one, only the files it does not know as they are now, flat,
/// each under a name of its own (`<host>.<position>`). Returns those staged files (staged
/// name, path in the tree).
pub fn stage(
    cluster: &Cluster,
    staging: &Utf8Path,
    record: Option<&record::Record>,
    recorder: &mut record::Recorder,
) -> Result<Vec<(String, String)>, WriteError> {
    let index_name = if record.is_some() { "index" } else { INDEX_FILE };
    let index_path = staging.join(index_name);
    let index_file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(CONFIG_MODE)
        .open(&index_path)
        .map_err(io(&index_path))?;
    let mut index = std::io::BufWriter::with_capacity(1 << 20, index_file);
    let mut index_sha = Sha256Stream::default();
    let mut index_error = None;
    let mut append = |piece: &str| {
        index_sha.update(piece.as_bytes());
        if index_error.is_none() {
            index_error = index.write_all(piece.as_bytes()).err();
        }
    };
    let mut writer = IndexWriter::new(cluster, &mut append);
    let mut puts = Vec::new();
    parallel::in_order(
        tree::hosts(cluster),
        tree::directors(cluster),
        |n| {
            let mut stager = Stager { staging, record, made: Vec::new(), puts: Vec::new(), buffer: String::new() };
            let host = tree::host_into(cluster, n, &mut stager)?;
            Ok(HostStaged { role: host.role, entry: host.entry, files: host.files, puts: stager.puts })
        },
        |host: HostStaged| {
            writer.entry(host.role, &host.entry, &mut append);
            for (path, mode, sha256) in &host.files {
                recorder.add(path, *mode, sha256)?;
            }
            puts.extend(host.puts);
            Ok(())
        },
    )?;
    writer.finish(cluster, &mut append);
    if let Some(error) = index_error {
        return Err(io(&index_path)(error));
    }
    index.into_inner().map_err(|e| io(&index_path)(e.into_error()))?;
    let index_sha = index_sha.finish();
    recorder.add(INDEX_FILE, CONFIG_MODE, &index_sha)?;
    // An update puts index.json only when it changed; a whole tree has it in place.
    if let Some(record) = record {
        match record.files.get(INDEX_FILE) {
            Some(known) if known.is(CONFIG_MODE, &index_sha) => {
                fs::remove_file(&index_path).map_err(io(&index_path))?
            }
            Some(_) | None => puts.push((index_name.to_owned(), INDEX_FILE.to_owned())),
        }
    }
    Ok(puts)
}

/// The sink that writes one host's files into the staging directory as they render.
struct Stager<'a> {
    staging: &'a Utf8Path,
    /// The trusted record of OUT, for an update; `None` for a whole tree.
    record: Option<&'a record::Record>,
    /// The directories made so far (whole tree).
    made: Vec<String>,
    /// The files staged for an update (staged name, path in the tree).
    puts: Vec<(String, String)>,
    /// The spool's buffer, reused from file to file.
    buffer: String,
}

impl Sink for Stager<'_> {
    /// Path in the tree, mode, SHA-256: what the record keeps.
    type File = (String, u32, String);
    type Error = WriteError;

    fn put(&mut self, file: &Placed<'_>, contents: &Contents<'_>) -> Result<(String, Self::File), WriteError> {
        let (target, staged) = match self.record {
            None => {
                disk::make_parents(self.staging, file.path, &mut self.made)?;
                (self.staging.join(file.path), None)
            }
            Some(_) => {
                let staged = format!("{}.{}", file.host, file.position);
                (self.staging.join(&staged), Some(staged))
            }
        };
        // An update's staged name says nothing of the file: the error names it.
        let named = |error: WriteError| match (error, self.record) {
            (WriteError::Io { path, error }, Some(_)) => WriteError::Staged { file: file.path.to_owned(), path, error },
            (error, _) => error,
        };
        let mut spool = Spool::new(&target, file.mode, std::mem::take(&mut self.buffer));
        if contents.render_into(&mut spool).is_err() {
            return Err(named(spool.failure()));
        }
        // An update stages only what the record does not know as it is now.
        let (sha256, written, buffer) = spool
            .finish(|sha256| match self.record {
                None => true,
                Some(record) => {
                    let known = record.files.get(file.path);
                    if let Some(known) = known {
                        known.kept.store(true, Ordering::Relaxed);
                    }
                    known.is_none_or(|known| !known.is(file.mode, sha256))
                }
            })
            .map_err(named)?;
        self.buffer = buffer;
        if let (true, Some(staged)) = (written, staged) {
            self.puts.push((staged, file.path.to_owned()));
        }
        Ok((sha256.clone(), (file.path.to_owned(), file.mode, sha256)))
    }
}
