//! The manifest text: where each JSON pointer sits in it (line and column); duplicate keys of JSON.

use crate::codes::Code;
use crate::diag::{pointer, Diagnostic, Location, Target};
use jsonc_parser::ast::{ObjectPropName, Value as Node};
use jsonc_parser::common::Ranged;
use std::collections::HashMap;

/// Byte ranges of every value and object key in the manifest, by JSON pointer.
pub struct SourceMap<'a> {
    text: &'a str,
    lines: Lines,
    values: HashMap<String, (usize, usize)>,
    keys: HashMap<String, (usize, usize)>,
}

/// Where each line of a text starts: byte offsets to line and column and back.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        Lines { starts: std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect() }
    }

    /// 1-based line and character column of a byte offset of `text`.
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }

    /// The byte offset of a 1-based line and a 0-based character column of `text`.
    pub fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else { return text.len() };
        let rest = &text[start..];
        start + rest.char_indices().nth(column).map_or(rest.len(), |(i, _)| i)
    }

    /// The location of the bytes `start..end` of `text`, cut at the end of its first line.
    pub fn location(&self, text: &str, start: usize, end: usize) -> Location {
        let (line, column) = self.line_column(text, start);
        let start = start.min(text.len());
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let width = text[start..end.clamp(start, line_end)].chars().count().max(1);
        Location { line, column, width }
    }
}

/// A key written twice in one object (JSON) or mapping (YAML); located later, at the last
/// occurrence, the one the parse keeps.
pub fn duplicate_key(path: &str, key: &str, first: (usize, usize), container: &str) -> Diagnostic {
    Diagnostic::new(Code::DuplicateKey, path, format!("key \"{key}\" appears twice in this {container}"))
        .hint(format!("first written at line {}, column {}; keep one", first.0, first.1))
        .at_key()
}

/// Where values and keys are, by JSON pointer, as a parser of another syntax (YAML) found them.
#[derive(Default)]
pub struct Ranges {
    pub values: HashMap<String, (usize, usize)>,
    pub keys: HashMap<String, (usize, usize)>,
}

impl<'a> SourceMap<'a> {
    /// Indexes `text`, which must already have passed the strict JSON parse;
    /// reports keys that appear twice in one object.
    pub fn new(text: &'a str, diagnostics: &mut Vec<Diagnostic>) -> SourceMap<'a> {
        let mut map = SourceMap { text, lines: Lines::new(text), values: HashMap::new(), keys: HashMap::new() };
        // The strict parse has accepted the text, so the lenient one cannot fail on it;
        // if it did, locations are simply missing.
        let ast = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default());
        if let Ok(jsonc_parser::ParseResult { value: Some(root), .. }) = ast {
            map.index(&root, String::new(), diagnostics);
        }
        map
    }

    /// The map of a text whose ranges another parser found.
    pub fn from_ranges(text: &'a str, ranges: Ranges) -> SourceMap<'a> {
        SourceMap { text, lines: Lines::new(text), values: ranges.values, keys: ranges.keys }
    }

    fn index(&mut self, node: &Node, path: String, diagnostics: &mut Vec<Diagnostic>) {
        let range = node.range();
        self.values.insert(path.clone(), (range.start, range.end));
        match node {
            Node::Object(object) => {
                let mut first_seen: HashMap<&str, usize> = HashMap::new();
                for prop in &object.properties {
                    let (name, key_range) = match &prop.name {
                        ObjectPropName::String(s) => (s.value.as_ref(), s.range),
                        ObjectPropName::Word(w) => (w.value, w.range),
                    };
                    let child = pointer(&path, name);
                    if let Some(first) = first_seen.get(name) {
                        let first = self.lines.line_column(self.text, *first);
                        diagnostics.push(duplicate_key(&child, name, first, "object"));
                    }
                    first_seen.insert(name, key_range.start);
                    self.keys.insert(child.clone(), (key_range.start, key_range.end));
                    self.index(&prop.value, child, diagnostics);
                }
            }
            Node::Array(array) => {
                for (i, element) in array.elements.iter().enumerate() {
                    self.index(element, pointer(&path, i), diagnostics);
                }
            }
            _ => {}
        }
    }

    /// Where the diagnostic's target is; the nearest enclosing value when the exact
    /// pointer is absent (a missing key points at the object that lacks it).
    pub fn locate(&self, path: &str, target: Target) -> Option<Location> {
        let exact = match target {
            Target::Key => self.keys.get(path),
            Target::Value => self.values.get(path),
        };
        let (start, end) = match exact {
            Some(range) => *range,
            None => {
                let mut parent = path;
                loop {
                    parent = &parent[..parent.rfind('/')?];
                    if let Some(range) = self.values.get(parent) {
                        // Only the opening token of an enclosing object or array.
                        break (range.0, range.0 + 1);
                    }
                }
            }
        };
        Some(self.lines.location(self.text, start, end))
    }

    /// Fills in every diagnostic's location.
    pub fn locate_all(&self, diagnostics: &mut [Diagnostic]) {
        for diagnostic in diagnostics.iter_mut().filter(|d| d.location.is_none()) {
            diagnostic.location = self.locate(&diagnostic.path, diagnostic.target);
        }
    }
}
