//! Analysing a manifest: its bytes decoded, parsed in its syntax, checked and lowered to
//! the model, every diagnostic located and sorted; and the sizes the command line reads.

use crate::codes::Code;
use crate::diag::{self, Diagnostic, Location};
use crate::manifest_source::{ManifestSource, Reread};
use crate::{contract, lower, parse, raw, report, source};

/// What analysing a manifest found: the cluster when it is valid, and every diagnostic.
struct Analysis {
    cluster: Option<crate::model::Cluster>,
    /// Sorted by position in the manifest.
    diagnostics: Vec<Diagnostic>,
}

/// Decodes the manifest's bytes; invalid UTF-8 is a syntax error at its position.
pub fn decode(bytes: &[u8]) -> Result<&str, Box<Diagnostic>> {
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        let mut diagnostic = Diagnostic::new(
            Code::InvalidJson,
            "",
            format!("the manifest is not UTF-8: invalid byte 0x{:02x}", bytes[error.valid_up_to()]),
        )
        .hint("save the manifest as UTF-8 (JSON is always UTF-8)");
        diagnostic.location = Some(Location { line, column, width: 1 });
        Box::new(diagnostic)
    })
}

/// A manifest's bytes after analysis, kept together with the text for reporting.
pub struct Checked {
    pub cluster: Option<crate::model::Cluster>,
    pub diagnostics: Vec<Diagnostic>,
    /// The manifest text, when it was UTF-8.
    text: Option<String>,
}

/// The largest manifest lvsdr reads unless told otherwise (`--max-manifest-size`): about
/// twice the largest manifest docs/benchmarks.md measures (E0037's hint says its size);
/// the CLI stops reading one byte past the limit.
pub const MAX_MANIFEST_BYTES: u64 = 128 << 20;

/// The manifest's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// By a file name's extension: `.yaml` and `.yml` are YAML, anything else JSON.
    pub fn of_file_name(name: &str) -> Syntax {
        match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()) {
            Some(ext) if ext == "yaml" || ext == "yml" => Syntax::Yaml,
            _ => Syntax::Json,
        }
    }
}

/// Decodes and analyses a JSON manifest of at most `MAX_MANIFEST_BYTES`.
pub fn check_bytes(bytes: &[u8]) -> Checked {
    check_bytes_within(bytes, MAX_MANIFEST_BYTES, Syntax::Json)
}

/// Decodes and analyses a manifest of at most `limit` bytes.
pub fn check_bytes_within(mut bytes: &[u8], limit: u64, syntax: Syntax) -> Checked {
    check_source(&mut bytes, limit, syntax)
}

/// Decodes and analyses the manifest of `source`, of at most `limit` bytes.
pub fn check_source(source: &mut dyn ManifestSource, limit: u64, syntax: Syntax) -> Checked {
    let mut source = Reread::new(source);
    let Some(bytes) = source.bytes() else {
        let diagnostic = Diagnostic::new(Code::InternalError, "", "the manifest's bytes could not be read");
        return Checked { cluster: None, diagnostics: vec![diagnostic], text: None };
    };
    if bytes.len() as u64 > limit {
        let diagnostic = Diagnostic::new(
            Code::ManifestTooLarge,
            "",
            format!("the manifest is larger than the limit of {}; lvsdr stopped reading there", size_text(limit)),
        )
        .hint("check that this is the manifest you meant; if it is, raise the limit with --max-manifest-size (50,000 real servers take about 45 MiB)");
        return Checked { cluster: None, diagnostics: vec![diagnostic], text: None };
    }
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(diagnostic) => return Checked { cluster: None, diagnostics: vec![*diagnostic], text: None },
    };
    let typed = match ParsePath::for_text(text, syntax) {
        ParsePath::Typed => serde_json::from_str::<raw::Manifest>(text).ok(),
        ParsePath::Full => None,
    };
    let analysis = match typed {
        Some(manifest) => fast_path(&mut source, manifest),
        // The typed parse refused the text: the full path says why.
        None => {
            let text = source.text().unwrap_or_default();
            match syntax {
                Syntax::Json => analyze_parsed(parse::parse(text)),
                Syntax::Yaml => analyze_parsed(parse::parse_yaml(text)),
            }
        }
    };
    // The text is kept only to quote it in diagnostics.
    let text = match analysis.diagnostics.is_empty() {
        true => None,
        false => source.text().map(str::to_owned),
    };
    Checked { cluster: analysis.cluster, diagnostics: analysis.diagnostics, text }
}

impl Checked {
    /// The diagnostics for people, naming the manifest `file`.
    pub fn human(&self, file: &str, style: report::Style) -> String {
        let line = |n: usize| {
            self.text.as_deref().and_then(|t| t.split('\n').nth(n.checked_sub(1)?)).map(|l| l.trim_end_matches('\r'))
        };
        report::human(&self.diagnostics, file, line, style)
    }

    /// `--deny-warnings`: every warning becomes an error, so the manifest is invalid when
    /// it has any.
    pub fn deny_warnings(&mut self) {
        let mut denied = false;
        for d in self.diagnostics.iter_mut().filter(|d| d.severity == diag::Severity::Warning) {
            d.severity = diag::Severity::Error;
            d.hint = Some(match d.hint.take() {
                Some(hint) => format!("{hint} (an error under --deny-warnings)"),
                None => "an error under --deny-warnings".into(),
            });
            denied = true;
        }
        if denied {
            self.cluster = None;
        }
    }

    /// Names the manifest in every diagnostic (`file` in JSON), as the command line named it.
    pub fn name_file(&mut self, file: &str) {
        let file: std::sync::Arc<str> = file.into();
        for d in &mut self.diagnostics {
            d.file = Some(file.clone());
        }
    }

    /// The diagnostics for machines.
    pub fn json(&self) -> Vec<contract::JsonDiagnostic> {
        report::json_diagnostics(&self.diagnostics)
    }
}

/// Which parse a manifest's text takes first.
///
/// The invariant: both paths give the same cluster and the same diagnostics, so the choice
/// changes only the time and memory a valid manifest costs. The full path is the reference:
/// a `serde_json::Value`, the structural check (`shape`, every unknown, missing or
/// mistyped key at once), then the raw types, with the source map built up front. The
/// typed path parses straight into the raw types, whose serde derives refuse whatever the
/// structural check would report (unknown keys, missing ones, wrong types, duplicate
/// keys), with one exception: an `Option` field reads JSON `null` as absent, where the
/// structural check reports a wrong type. So a text with `null` anywhere (even inside a
/// string, which only costs it the fast path) takes the full path, and so does any text
/// the typed parse refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParsePath {
    /// Straight into the raw types; locations only when lowering reports something.
    Typed,
    /// The syntax tree, the structural check and the source map.
    Full,
}

impl ParsePath {
    /// The path a manifest's text in `syntax` takes first; YAML always takes the full path
    /// (its values are built by `yaml`, not by serde from the text).
    fn for_text(text: &str, syntax: Syntax) -> ParsePath {
        match syntax {
            Syntax::Json if !text.contains("null") => ParsePath::Typed,
            Syntax::Json | Syntax::Yaml => ParsePath::Full,
        }
    }
}

/// The fast path from the typed parse on. The raw manifest owns its strings, so the source
/// lets go of the text while lowering runs and is asked for it again only to locate
/// diagnostics (`ManifestSource`'s contract).
fn fast_path(source: &mut Reread<'_>, manifest: raw::Manifest) -> Analysis {
    source.release();
    let (cluster, mut diagnostics) = lower::lower(manifest);
    if !diagnostics.is_empty() {
        if let Some(text) = source.text() {
            let mut ignored = Vec::new();
            source::SourceMap::new(text, &mut ignored).locate_all(&mut diagnostics);
        }
        sort_by_position(&mut diagnostics);
    }
    Analysis { cluster, diagnostics }
}

/// Lowers what the full parse found and locates every diagnostic.
fn analyze_parsed(parsed: parse::Parsed<'_>) -> Analysis {
    let mut diagnostics = parsed.diagnostics;
    let mut cluster = None;
    if let Some(manifest) = parsed.manifest {
        let (lowered, found) = lower::lower(manifest);
        cluster = lowered;
        diagnostics.extend(found);
    }
    if let Some(source) = &parsed.source {
        source.locate_all(&mut diagnostics);
    }
    sort_by_position(&mut diagnostics);
    Analysis { cluster, diagnostics }
}

fn sort_by_position(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| d.location.map(|l| (l.line, l.column)).unwrap_or((usize::MAX, 0)));
}

/// A size in bytes for people: `128 MiB`, `512 KiB`, `100 bytes`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Parses a size: a number of bytes, or with a suffix K, M or G (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let number: u64 =
        digits.parse().map_err(|_| format!("\"{text}\" is not a size: write bytes, or a number with K, M or G"))?;
    number.checked_mul(1 << shift).filter(|n| *n > 0).ok_or_else(|| format!("\"{text}\" is not a size lvsdr can use"))
}

/// The manifest's text as the JSON value both syntaxes parse to (what the manifest's schema
/// describes); `None` when it does not parse.
pub fn manifest_value(text: &str, syntax: Syntax) -> Option<serde_json::Value> {
    match syntax {
        Syntax::Json => serde_json::from_str(text).ok(),
        Syntax::Yaml => crate::yaml::parse(text).ok().map(|(value, ..)| value),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_bytes, check_source, Code, Syntax, MAX_MANIFEST_BYTES};
    use crate::manifest_source::ManifestSource;

    /// A manifest that takes the typed path and has a diagnostic to locate (E0019).
    const MANIFEST: &str = include_str!("../../fixtures/invalid/duplicate-member.json");

    /// A source whose bytes after `release` are `again`: `ManifestSource`'s contract
    /// kept, or not.
    struct Released {
        first: Vec<u8>,
        again: Option<Vec<u8>>,
        released: bool,
    }

    impl ManifestSource for Released {
        fn bytes(&mut self) -> Option<&[u8]> {
            match self.released {
                true => self.again.as_deref(),
                false => Some(&self.first),
            }
        }

        fn release(&mut self) {
            self.released = true;
        }
    }

    /// Each diagnostic's code, path and line and column.
    type Found = Vec<(Code, String, Option<(usize, usize)>)>;

    fn checked(again: Option<&str>) -> Found {
        let mut source = Released { first: MANIFEST.into(), again: again.map(|text| text.into()), released: false };
        let checked = check_source(&mut source, MAX_MANIFEST_BYTES, Syntax::Json);
        assert!(source.released, "a manifest that parsed is let go while it is lowered");
        checked.diagnostics.iter().map(|d| (d.code, d.path.clone(), d.location.map(|l| (l.line, l.column)))).collect()
    }

    #[test]
    fn the_same_bytes_again_locate_as_if_kept() {
        let kept = check_bytes(MANIFEST.as_bytes());
        let kept: Vec<_> =
            kept.diagnostics.iter().map(|d| (d.code, d.path.clone(), d.location.map(|l| (l.line, l.column)))).collect();
        assert!(!kept.is_empty() && kept.iter().all(|(_, _, at)| at.is_some()));
        assert_eq!(checked(Some(MANIFEST)), kept);
    }

    #[test]
    fn no_bytes_again_or_another_length_cost_only_the_locations() {
        let located = checked(Some(MANIFEST));
        let unlocated: Vec<_> = located.iter().map(|(code, path, _)| (*code, path.clone(), None)).collect();
        assert_eq!(checked(None), unlocated);
        let longer = format!("{MANIFEST}\n");
        assert_eq!(checked(Some(&longer)), unlocated);
    }
}
