//! Digests lvsdr's sources and templates into `LVSDR_SOURCE_DIGEST`: the writer's record
//! names the build that wrote a tree, so that an unchanged manifest is recompiled by a
//! changed build and skipped by the same one.

use sha2::{Digest, Sha256};
use std::path::Path;

fn add(dir: &Path, hasher: &mut Sha256) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("source directory").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            add(&path, hasher);
        } else {
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&path).expect("source file"));
        }
    }
}

fn main() {
    let mut hasher = Sha256::new();
    for dir in ["src", "../templates"] {
        println!("cargo:rerun-if-changed={dir}");
        add(Path::new(dir), &mut hasher);
    }
    let digest: String = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=LVSDR_SOURCE_DIGEST={digest}");
}
