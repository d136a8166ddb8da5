//! Where a manifest's bytes come from: the contract that lets analysis let go of them while it lowers and ask for them again.

/// Where a manifest's bytes come from.
///
/// Analysis asks for the bytes and parses them; when the typed parse took them into the
/// raw types (which own their strings), it calls `release` before lowering, so that the
/// text, the raw manifest and the model are never all in memory at once (the peak memory
/// docs/benchmarks.md reports depends on it). It asks for the bytes again only to locate
/// diagnostics and to quote the lines they point at.
///
/// The contract every source keeps:
///
/// - Before any `release`, `bytes` gives the manifest; `None` means it could not be had
///   at all (reported as an internal error).
/// - After `release`, `bytes` gives the same bytes as the first time, or `None` when the
///   source cannot vouch for that (a file changed since it was read). Never other bytes:
///   the cluster and the diagnostics came from the first ones, and locations found in
///   another text would point at the wrong lines. `None` costs only the locations and
///   the quoted lines; the cluster and the diagnostics stay as they are.
///   `Reread` refuses bytes of another length; the rest is the source's to vouch for.
/// - `release` may keep the bytes (the default): a source that cannot obtain them again
///   (standard input, a slice in memory) does.
pub trait ManifestSource {
    /// The manifest's bytes, the same every time (see the trait's contract).
    fn bytes(&mut self) -> Option<&[u8]>;
    /// Lets go of the bytes until they are asked for again.
    fn release(&mut self) {}
}

impl ManifestSource for &[u8] {
    fn bytes(&mut self) -> Option<&[u8]> {
        Some(self)
    }
}

/// A source as analysis holds it: the length of the bytes it gave first, so that bytes
/// obtained again are refused (as `None`) when their length differs.
pub struct Reread<'s> {
    source: &'s mut dyn ManifestSource,
    len: Option<usize>,
}

impl<'s> Reread<'s> {
    pub fn new(source: &'s mut dyn ManifestSource) -> Self {
        Reread { source, len: None }
    }

    /// The bytes: the first time as the source gives them, after that only when they have
    /// the first time's length.
    pub fn bytes(&mut self) -> Option<&[u8]> {
        let bytes = self.source.bytes()?;
        match self.len {
            None => {
                self.len = Some(bytes.len());
                Some(bytes)
            }
            Some(len) => (bytes.len() == len).then_some(bytes),
        }
    }

    /// The bytes as text, when they are UTF-8 (analysis decoded them the first time).
    pub fn text(&mut self) -> Option<&str> {
        self.bytes().and_then(|bytes| std::str::from_utf8(bytes).ok())
    }

    /// Lets the source let go of the bytes until they are asked for again.
    pub fn release(&mut self) {
        self.source.release();
    }
}
