//! Report: diagnostics as text for people (rustc-style, with the source line and a caret)
//! and as JSON for machines.

use crate::diag::{Diagnostic, Severity};
use serde_json::{json, Value};

/// Terminal styling, on only when the CLI decides colour is wanted.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Human-readable report of every diagnostic, followed by a one-line summary.
/// `source_line` returns a line of the manifest by its 1-based number.
pub fn human<'a>(
    diagnostics: &[Diagnostic],
    file: &str,
    source_line: impl Fn(usize) -> Option<&'a str>,
    style: Style,
) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (word, colour) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        out += &format!(
            "{}{}\n",
            style.paint(colour, &format!("{word}[{}]", d.code)),
            style.paint("1", &format!(": {}", d.message))
        );
        let path = if d.path.is_empty() { "(the whole document)" } else { d.path.as_str() };
        match d.location {
            Some(loc) => {
                let number = loc.line.to_string();
                let gutter = " ".repeat(number.len());
                out += &format!("{gutter}{} {file}:{}:{}\n", style.paint("1;34", "-->"), loc.line, loc.column);
                if let Some(text) = source_line(loc.line) {
                    let pad: String =
                        text.chars().take(loc.column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                    let bar = style.paint("1;34", "|");
                    out += &format!("{gutter} {bar}\n");
                    out += &format!("{} {bar} {}\n", style.paint("1;34", &number), text);
                    out += &format!("{gutter} {bar} {pad}{}\n", style.paint(colour, &"^".repeat(loc.width)));
                }
                out += &format!("{gutter} = at: {path}\n");
                if let Some(hint) = &d.hint {
                    out += &format!("{gutter} = help: {hint}\n");
                }
            }
            None => {
                out += &format!("  --> {file} at {path}\n");
                if let Some(hint) = &d.hint {
                    out += &format!("   = help: {hint}\n");
                }
            }
        }
        out.push('\n');
    }
    out += &summary(diagnostics, file);
    out.push('\n');
    out
}

/// `web.json: 2 errors, 1 warning` (or `web.json: ok`).
pub fn summary(diagnostics: &[Diagnostic], file: &str) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => format!("{file}: ok"),
        (0, w) => format!("{file}: ok, {}", plural(w, "warning")),
        (e, 0) => format!("{file}: {}", plural(e, "error")),
        (e, w) => format!("{file}: {}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// The diagnostics as JSON objects, in the documented shape.
pub fn json_diagnostics(diagnostics: &[Diagnostic]) -> Value {
    Value::Array(
        diagnostics
            .iter()
            .map(|d| {
                json!({
                    "severity": d.severity,
                    "code": d.code,
                    "path": d.path,
                    "line": d.location.map(|l| l.line),
                    "column": d.location.map(|l| l.column),
                    "message": d.message,
                    "hint": d.hint,
                })
            })
            .collect(),
    )
}
