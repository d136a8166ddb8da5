//! Report: diagnostics as text for people (rustc-style, with the source line and a caret)
//! and as JSON for machines.

use crate::contract::JsonDiagnostic;
use crate::diag::{Diagnostic, Severity};
use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};
use std::ops::Range;

/// Terminal styling, on only when the CLI decides colour is wanted.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

/// Human-readable report of every diagnostic, followed by a one-line summary.
/// `source_line` returns a line of the manifest by its 1-based number.
///
/// The layout is rustc's, drawn by annotate-snippets (the renderer rustc and cargo
/// use): it trims long lines around the caret and shows control and bidirectional
/// characters of the echoed line as visible symbols.
pub(crate) fn human<'a>(
    diagnostics: &[Diagnostic],
    file: &str,
    source_line: impl Fn(usize) -> Option<&'a str>,
    style: Style,
) -> String {
    let renderer = if style.color { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let message = printable(&d.message);
        let path = if d.path.is_empty() { "(the whole document)" } else { d.path.as_str() };
        let title = level.primary_title(message.as_str()).id(d.code.as_str());
        let line = d.location.and_then(|loc| Some((loc, source_line(loc.line)?)));
        let mut group = match (d.location, line) {
            (_, Some((loc, text))) => title.element(
                Snippet::source(text)
                    .line_start(loc.line)
                    .path(file)
                    .annotation(AnnotationKind::Primary.span(char_span(text, loc.column, loc.width))),
            ),
            (Some(loc), None) => title.element(Origin::path(file).line(loc.line).char_column(loc.column)),
            (None, None) => title.element(Origin::path(file)),
        };
        group = group.element(Level::NOTE.with_name("at").message(path));
        let hint = d.hint.as_deref().map(printable);
        if let Some(hint) = &hint {
            group = group.element(Level::HELP.message(hint.as_str()));
        }
        out += &renderer.render(&[group]);
        out += "\n\n";
    }
    out += &summary(diagnostics, file);
    out.push('\n');
    out
}

/// The byte range of `width` characters from the 1-based character `column` of `line`.
fn char_span(line: &str, column: usize, width: usize) -> Range<usize> {
    let byte = |chars: usize| line.char_indices().nth(chars).map_or(line.len(), |(i, _)| i);
    let start = byte(column.saturating_sub(1));
    start..byte(column.saturating_sub(1) + width.max(1)).max(start)
}

/// Control and bidirectional-override characters would act on the terminal or reorder
/// the text around them; messages quote manifest values, so such characters are escaped.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A message or hint, with unsafe characters written as `\u{...}`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if is_unsafe(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// `web.json: 2 errors, 1 warning` (or `web.json: ok`).
pub(crate) fn summary(diagnostics: &[Diagnostic], file: &str) -> String {
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

/// The diagnostics as the JSON results carry them.
pub fn json_diagnostics(diagnostics: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    diagnostics
        .iter()
        .map(|d| JsonDiagnostic {
            file: d.file.as_deref().map(str::to_owned),
            severity: d.severity.as_str().to_owned(),
            code: d.code.as_str().to_owned(),
            path: d.path.clone(),
            line: d.location.map(|l| l.line),
            column: d.location.map(|l| l.column),
            message: d.message.clone(),
            hint: d.hint.clone(),
        })
        .collect()
}

/// The diagnostics as GitHub Actions workflow commands (`::error file=…,line=…::…`), one
/// a line: the workflow shows each on the line of the file it names.
/// `file` is `None` for a failure that concerns no manifest.
pub fn github(diagnostics: &[Diagnostic], file: Option<&str>) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(file) = file {
            properties.push(format!("file={}", github_property(file)));
        }
        if let Some(loc) = d.location {
            properties.push(format!("line={},col={},endColumn={}", loc.line, loc.column, loc.column + loc.width));
        }
        properties.push(format!("title={}", github_property(&format!("lvsdr {}", d.code))));
        let properties = properties.join(",");
        let mut message = printable(&d.message);
        if !d.path.is_empty() {
            message += &format!(" (at {})", d.path);
        }
        if let Some(hint) = &d.hint {
            message += &format!("\nhelp: {}", printable(hint));
        }
        out += &format!("::{command} {properties}::{}\n", github_data(&message));
    }
    out
}

/// A workflow command's message: `%`, CR and LF escaped, as the runner decodes them.
fn github_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}
