//! Analysing a manifest: its bytes decoded, parsed in its syntax, checked and lowered to
//! the model, every diagnostic located and sorted; and the sizes the command line reads.

use crate::codes::Code;
use crate::diag::{self, Diagnostic, Location};
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
/// twice a 50,000-server manifest; the CLI stops reading one byte past the limit.
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

/// Where a manifest's bytes come from. Analysis lets go of them while it lowers a
/// manifest that parsed, and asks for them again only when a diagnostic needs locating,
/// so that the text, the raw manifest and the model are never all in memory at once.
pub trait Source {
    /// The bytes; after `release`, obtained again (`None` when that fails: the
    /// diagnostics then go without locations).
    fn bytes(&mut self) -> Option<&[u8]>;
    /// Lets go of the bytes until they are asked for again. A source that cannot obtain
    /// them again (standard input) keeps them.
    fn release(&mut self) {}
}

impl Source for &[u8] {
    fn bytes(&mut self) -> Option<&[u8]> {
        Some(self)
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
pub fn check_source(source: &mut dyn Source, limit: u64, syntax: Syntax) -> Checked {
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
    let fast = match syntax {
        Syntax::Json => typed_parse(text).map(|manifest| fast_path(source, manifest)),
        Syntax::Yaml => None,
    };
    let analysis = fast.unwrap_or_else(|| {
        let text = source.bytes().and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default();
        match syntax {
            Syntax::Json => analyze_parsed(parse::parse(text)),
            Syntax::Yaml => analyze_parsed(parse::parse_yaml(text)),
        }
    });
    // The text is kept only to quote it in diagnostics.
    let text = match analysis.diagnostics.is_empty() {
        true => None,
        false => source.bytes().and_then(|b| std::str::from_utf8(b).ok()).map(str::to_owned),
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

/// The fast path's parse of a JSON manifest; `None` when in doubt.
///
/// A valid manifest takes the fast path: straight into the raw types, no syntax tree, no
/// source map; locations are computed only when lowering has something to report. Any
/// doubt (the typed parse fails, or the text has a `null`, which the typed parse would read
/// as an absent key where the structural check reports a wrong type) takes the full path,
/// whose diagnostics are the reference.
fn typed_parse(text: &str) -> Option<raw::Manifest> {
    if text.contains("null") {
        return None;
    }
    serde_json::from_str::<raw::Manifest>(text).ok()
}

/// The fast path from the typed parse on. The raw manifest owns its strings, so the source
/// lets go of the text while lowering runs and is asked for it again only to locate
/// diagnostics.
fn fast_path(source: &mut dyn Source, manifest: raw::Manifest) -> Analysis {
    source.release();
    let (cluster, mut diagnostics) = lower::lower(manifest);
    if !diagnostics.is_empty() {
        if let Some(text) = source.bytes().and_then(|b| std::str::from_utf8(b).ok()) {
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
