//! Reading a manifest: from a file or standard input (refusing a FIFO, a directory and a
//! closed standard input), at most `--max-manifest-size` bytes, in the syntax its name or
//! `--input-format` says; then its analysis, with the diagnostics printed.

use super::exit::Failure;
use super::printer::Printer;
use clap::ValueEnum;
use lvsdr::{Cluster, Diagnostic};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;

/// The manifest's syntax.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Auto,
    Json,
    Yaml,
}

/// How manifests are read (`--max-manifest-size`, `--input-format`, `--stdin-filename`,
/// `--deny-warnings`).
pub struct Reading {
    pub max_manifest_size: u64,
    pub input_format: InputFormat,
    pub stdin_filename: Option<String>,
    pub deny_warnings: bool,
}

/// What analysing a manifest found.
pub struct Loaded {
    /// The cluster, when the manifest is valid.
    pub cluster: Option<Cluster>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a manifest without diagnostics is said to be ok (`check`) or passed over in
/// silence (every command that goes on to do something with it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WhenClean {
    Summary,
    Silent,
}

impl Reading {
    /// Reads and analyses MANIFEST (a path, or `-`), and prints its diagnostics.
    pub fn load(&self, printer: &Printer, manifest: &str, when_clean: WhenClean) -> Result<Loaded, Failure> {
        self.load_digest(printer, manifest, when_clean, false).map(|(loaded, _)| loaded)
    }

    /// `load`, and the SHA-256 of the manifest's bytes, which the writer's record remembers.
    pub fn load_and_digest(&self, printer: &Printer, manifest: &str) -> Result<(Loaded, String), Failure> {
        self.load_digest(printer, manifest, WhenClean::Silent, true)
    }

    fn load_digest(
        &self,
        printer: &Printer,
        manifest: &str,
        when_clean: WhenClean,
        digest: bool,
    ) -> Result<(Loaded, String), Failure> {
        let (file, mut bytes) = self.read(manifest)?;
        // The record remembers the bytes as read, before analysis lets go of them.
        let digest = match digest {
            true => lvsdr::sha256_hex(bytes.bytes.as_deref().unwrap_or_default()),
            false => String::new(),
        };
        let mut checked = lvsdr::check_source(&mut bytes, self.max_manifest_size, self.syntax_of(&file));
        drop(bytes);
        if self.deny_warnings {
            checked.deny_warnings();
        }
        checked.name_file(&file);
        printer.diagnostics(&checked, &file, when_clean == WhenClean::Silent)?;
        Ok((Loaded { cluster: checked.cluster, diagnostics: checked.diagnostics }, digest))
    }

    /// The syntax of the manifest named `file` in messages.
    fn syntax_of(&self, file: &str) -> lvsdr::Syntax {
        match self.input_format {
            InputFormat::Json => lvsdr::Syntax::Json,
            InputFormat::Yaml => lvsdr::Syntax::Yaml,
            InputFormat::Auto => lvsdr::Syntax::of_file_name(file),
        }
    }

    /// The manifest's name in messages and its bytes. Reads at most one byte more than the
    /// limit, so a huge input is refused without reading it all; the analysis reports it.
    fn read(&self, manifest: &str) -> Result<(String, ManifestBytes), Failure> {
        let limit = self.max_manifest_size + 1;
        let mut bytes = Vec::new();
        let read_error = |what: &str, e: std::io::Error| Failure::read(format!("reading {what}: {e}"));
        if manifest == "-" {
            // A closed standard input is an error, not an empty manifest. The Rust runtime
            // reopens a closed fd 0 on /dev/null before main, so that is what is seen.
            let null = rustix::fs::fstat(std::io::stdin()).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::CharacterDevice
                    && rustix::fs::major(st.st_rdev) == 1
                    && rustix::fs::minor(st.st_rdev) == 3
            });
            if null {
                return Err(read_error("standard input", std::io::Error::other("it is closed (or /dev/null)")));
            }
            std::io::stdin().take(limit).read_to_end(&mut bytes).map_err(|e| read_error("standard input", e))?;
            let bytes = ManifestBytes { bytes: Some(bytes), file: None };
            Ok((self.stdin_filename.clone().unwrap_or_else(|| "<stdin>".into()), bytes))
        } else {
            // Opened without blocking, so that a FIFO with no writer is refused instead of hanging.
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(manifest)
                .map_err(|e| read_error(manifest, e))?;
            let meta = file.metadata().map_err(|e| read_error(manifest, e))?;
            if meta.is_dir() {
                return Err(read_error(manifest, std::io::Error::other("it is a directory")));
            }
            if !meta.is_file() {
                return Err(read_error(
                    manifest,
                    std::io::Error::other(
                        "it is not a regular file (a FIFO, socket or device); use - for standard input",
                    ),
                ));
            }
            // Sized up front: `take` hides the file's length from `read_to_end`, which would
            // grow the buffer by doubling to twice the manifest.
            bytes.reserve_exact(meta.len().min(limit) as usize + 1);
            // Stated before reading: a write while it reads changes what is stated after.
            let stated = Stated::of(&file).map_err(|e| read_error(manifest, e))?;
            (&file).take(limit).read_to_end(&mut bytes).map_err(|e| read_error(manifest, e))?;
            let file = (stated.len == bytes.len() as u64).then_some((file, stated));
            Ok((manifest.to_owned(), ManifestBytes { bytes: Some(bytes), file }))
        }
    }
}

/// A manifest's bytes as read, a `lvsdr::ManifestSource`. A file's are let go while a
/// valid parse is lowered and read again from the same open file only to locate
/// diagnostics, when the file is as it was stated before the first read; standard
/// input's, and those of a file that changed while it was read, are kept.
struct ManifestBytes {
    bytes: Option<Vec<u8>>,
    /// The file they came from, still open (the same inode even if renamed meanwhile),
    /// and what it was stated as before they were read.
    file: Option<(std::fs::File, Stated)>,
}

/// What vouches that a file's bytes are those read before: its length, and the times a
/// write sets (a change of contents sets `ctime` even when `mtime` is set back).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stated {
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stated {
    fn of(file: &std::fs::File) -> std::io::Result<Stated> {
        use std::os::unix::fs::MetadataExt;
        let meta = file.metadata()?;
        Ok(Stated {
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

impl lvsdr::ManifestSource for ManifestBytes {
    fn bytes(&mut self) -> Option<&[u8]> {
        if self.bytes.is_none() {
            // The contract: the same bytes, or none. A file stated otherwise since gives none.
            let (file, stated) = self.file.as_ref()?;
            if Stated::of(file).ok()? != *stated {
                return None;
            }
            let mut again = vec![0; stated.len as usize];
            std::os::unix::fs::FileExt::read_exact_at(file, &mut again, 0).ok()?;
            self.bytes = Some(again);
        }
        self.bytes.as_deref()
    }

    fn release(&mut self) {
        if self.file.is_some() {
            self.bytes = None;
        }
    }
}
