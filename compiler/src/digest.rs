//! SHA-256 in hex: index.json's checksums, lvs.cf's content-derived serial number, and the
//! writer's record of what it wrote.

use sha2::{Digest, Sha256};

/// SHA-256 of a text or bytes, as hex.
pub fn sha256_hex(contents: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(contents.as_ref()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

/// SHA-256 of data given in pieces, as hex.
#[derive(Default)]
pub struct Sha256Stream(Sha256);

impl Sha256Stream {
    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}
