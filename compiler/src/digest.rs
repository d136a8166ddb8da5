//! SHA-256 in hex: index.json's checksums and lvs.cf's content-derived serial number.

use sha2::{Digest, Sha256};

pub fn sha256_hex(contents: &str) -> String {
    Sha256::digest(contents.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
