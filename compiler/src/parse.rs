//! Parse: manifest text to the raw serde types, reporting syntax and structure problems.

use crate::codes::Code;
use crate::diag::{Diagnostic, Location};
use crate::raw;
use crate::shape;
use crate::source::SourceMap;

/// The outcome of parsing: the raw manifest when its structure is sound, and what was found.
pub struct Parsed<'a> {
    pub manifest: Option<raw::Manifest>,
    pub source: Option<SourceMap<'a>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` strictly (RFC 8259 JSON) and checks its structure.
pub fn parse(text: &str) -> Parsed<'_> {
    let mut diagnostics = Vec::new();
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            let mut diagnostic = Diagnostic::new(Code::InvalidJson, "", syntax_message(&error));
            diagnostic.hint = Some(syntax_hint(&error, text).into());
            if error.line() > 0 {
                diagnostic.location = Some(Location { line: error.line(), column: error.column().max(1), width: 1 });
            }
            diagnostics.push(diagnostic);
            return Parsed { manifest: None, source: None, diagnostics };
        }
    };
    let source = SourceMap::new(text, &mut diagnostics);
    structure(value, source, diagnostics)
}

/// Parses a YAML manifest and checks its structure, with the same codes as JSON.
pub fn parse_yaml(text: &str) -> Parsed<'_> {
    match crate::yaml::parse(text) {
        Ok((value, ranges, found)) => structure(value, SourceMap::from_ranges(text, ranges), found),
        Err(diagnostic) => Parsed { manifest: None, source: None, diagnostics: vec![*diagnostic] },
    }
}

/// The structural check of a parsed document, then the raw types when it is sound.
fn structure(value: serde_json::Value, source: SourceMap<'_>, mut diagnostics: Vec<Diagnostic>) -> Parsed<'_> {
    shape::check(&value, crate::schema::manifest(), "", &mut diagnostics);
    let manifest = if diagnostics.is_empty() {
        match serde_json::from_value(value) {
            Ok(manifest) => Some(manifest),
            Err(error) => {
                diagnostics.push(Diagnostic::new(
                    Code::InternalError,
                    "",
                    format!("the structural check passed but deserializing failed: {error}"),
                ));
                None
            }
        }
    } else {
        None
    };
    Parsed { manifest, source: Some(source), diagnostics }
}

/// serde_json's message without its " at line L column C" suffix (we print the location ourselves).
fn syntax_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    format!("invalid JSON: {message}")
}

fn syntax_hint(error: &serde_json::Error, text: &str) -> &'static str {
    let message = error.to_string();
    if looks_like_yaml(text) {
        "this looks like YAML: name the file .yaml or .yml, or pass --input-format yaml"
    } else if message.contains("recursion limit") {
        "the manifest nests deeper than any valid manifest could; check for runaway brackets"
    } else if message.contains("number out of range") {
        "no key takes a number this large: the largest any key accepts is 2678400 (persistence, in seconds)"
    } else if message.contains("trailing comma") {
        "remove the comma before the closing bracket"
    } else if message.contains("key must be a string") || message.contains("expected value") && text.contains("//") {
        "JSON has no comments and needs keys in double quotes"
    } else if error.is_eof() {
        "the document ends early: a bracket, brace or quote is not closed"
    } else if message.contains("control character") {
        "strings cannot contain raw control characters (tabs, newlines); remove them"
    } else {
        "fix the JSON syntax at this position; `python3 -m json.tool FILE` shows the same error"
    }
}

/// A text that is not JSON but reads as YAML: it does not open with `{` or `[`, and its
/// first lines are `key: value` pairs, `- ` items or `---`.
fn looks_like_yaml(text: &str) -> bool {
    let lines =
        text.lines().map(str::trim_end).filter(|l| !l.trim_start().is_empty() && !l.trim_start().starts_with('#'));
    let Some(first) = lines.clone().next() else { return false };
    if first.trim_start().starts_with(['{', '[']) {
        return false;
    }
    lines.take(3).all(|line| {
        let line = line.trim_start();
        line == "---"
            || line.starts_with("- ")
            || line.split_once(':').is_some_and(|(key, rest)| {
                !key.is_empty()
                    && key.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '"' | '\''))
                    && (rest.is_empty() || rest.starts_with(' '))
            })
    })
}
