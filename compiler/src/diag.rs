//! Diagnostics: what every stage reports, and where in the manifest it points.

use crate::codes::Code;
pub use crate::codes::Severity;

/// Which part of a JSON member a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The value (`"10.0.0.1/24"` in `"address": "10.0.0.1/24"`).
    Value,
    /// The key itself (`"adress"`), for unknown or duplicate keys.
    Key,
}

/// A position in the manifest text, 1-based, columns counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    /// Length of the located token in characters (at least 1), for the caret line.
    pub width: usize,
}

/// One finding about the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// JSON pointer (RFC 6901) to the offending value; `""` is the whole document.
    pub path: String,
    pub target: Target,
    pub message: String,
    pub hint: Option<String>,
    /// Filled in from the source text after validation, when the path can be located.
    pub location: Option<Location>,
    /// The manifest as the command line named it, once the CLI knows it (shared by
    /// every diagnostic of that manifest).
    pub file: Option<std::sync::Arc<str>>,
}

impl Diagnostic {
    /// An error or warning (as the code says) about the value at `path`.
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            path: path.into(),
            target: Target::Value,
            message: message.into(),
            hint: None,
            location: None,
            file: None,
        }
    }

    /// The hint, its releases named from the platform table (`{on:FACT}`, `platform_prose`).
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.hint = Some(match crate::platform_prose::expand(&hint) {
            std::borrow::Cow::Borrowed(_) => hint,
            std::borrow::Cow::Owned(expanded) => expanded,
        });
        self
    }

    pub fn at_key(mut self) -> Self {
        self.target = Target::Key;
        self
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Builds JSON pointers without repeating the RFC 6901 escaping rules everywhere.
pub fn pointer(parent: &str, token: impl std::fmt::Display) -> String {
    use std::fmt::Write;
    let mut path = String::with_capacity(parent.len() + 16);
    path.push_str(parent);
    path.push('/');
    let start = path.len();
    write!(path, "{token}").expect("writing to a String cannot fail");
    // RFC 6901: `~` and `/` inside a token are escaped; most tokens have neither.
    if path[start..].contains(['~', '/']) {
        let escaped = path[start..].replace('~', "~0").replace('/', "~1");
        path.truncate(start);
        path.push_str(&escaped);
    }
    path
}

/// The closest candidate to `word`, if one is close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        // Ties go to the alphabetically first candidate, whatever order the candidates came in.
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}
