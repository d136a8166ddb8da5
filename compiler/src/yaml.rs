//! YAML manifests: YAML 1.2 text to the JSON value the JSON path parses, with the byte
//! range of every value and key, so diagnostics point at the YAML line and column.
//!
//! Scalars resolve by the YAML 1.2 core schema, as an operator's editor shows them: a
//! plain `80` is a number, `true` a boolean, `null`, `~` or nothing a null, anything
//! quoted a string; `no` and `on` are strings (YAML 1.2 has no "Norway problem").
//! Anchors and aliases work; other tags than the core schema's, several documents and
//! keys that are not scalars are refused.

use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::source::{duplicate_key, Lines, Ranges};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Parses `text`: the value, where each part of it is, and what was found on the way
/// (duplicate keys); or the syntax error that stopped it.
pub fn parse(text: &str) -> Result<(Value, Ranges, Vec<Diagnostic>), Box<Diagnostic>> {
    let mut builder = Builder {
        events: Parser::new_from_str(text),
        text,
        lines: Lines::new(text),
        anchors: HashMap::new(),
        nodes: 0,
        // Aliases may repeat parts of the document, but never blow it up: a few hundred
        // bytes of nested aliases would otherwise expand to gigabytes ("billion laughs").
        budget: 2 * text.len() + 65_536,
        ranges: Ranges::default(),
        diagnostics: Vec::new(),
    };
    let value = builder.document()?;
    Ok((value, builder.ranges, builder.diagnostics))
}

struct Builder<'t> {
    events: Parser<'t, saphyr_parser::StrInput<'t>>,
    text: &'t str,
    lines: Lines,
    /// Each anchor's value and how many nodes it holds.
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes built so far, aliases counted at their expanded size, against `budget`.
    nodes: usize,
    budget: usize,
    ranges: Ranges,
    /// Findings that do not stop the parse (duplicate keys).
    diagnostics: Vec<Diagnostic>,
}

impl<'t> Builder<'t> {
    fn next(&mut self) -> Result<(Event<'t>, Span), Box<Diagnostic>> {
        match self.events.next() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(self.scan_error(&error)),
            None => Err(self.error_at(self.text.len(), "the document ends early".into(), HINT_INDENT)),
        }
    }

    /// The one document of the stream.
    fn document(&mut self) -> Result<Value, Box<Diagnostic>> {
        let mut value = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(value.unwrap_or(Value::Null)),
                _ if value.is_some() => {
                    return Err(self.error_at(
                        self.offset(span),
                        "the file holds more than one YAML document".into(),
                        "a manifest is one document: remove the second `---` and what follows, or split the file",
                    ))
                }
                event => value = Some(self.node(event, span, String::new())?),
            }
        }
    }

    fn node(&mut self, event: Event<'t>, span: Span, path: String) -> Result<Value, Box<Diagnostic>> {
        let start = self.offset(span);
        let nodes_before = self.nodes;
        self.count(1, start)?;
        let (value, anchor, end) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value =
                    self.scalar(&text, style, tag.as_deref().map(|t| (t.handle.as_str(), t.suffix.as_str())), start)?;
                (value, anchor, self.end_offset(span))
            }
            Event::SequenceStart(anchor, tag) => {
                self.refuse_tag(tag.as_deref().map(|t| (t.handle.as_str(), t.suffix.as_str())), "seq", start)?;
                let mut items = Vec::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break self.end_offset(span);
                    }
                    items.push(self.node(event, span, pointer(&path, items.len()))?);
                };
                (Value::Array(items), anchor, end)
            }
            Event::MappingStart(anchor, tag) => {
                self.refuse_tag(tag.as_deref().map(|t| (t.handle.as_str(), t.suffix.as_str())), "map", start)?;
                let mut object = Map::new();
                let mut first_seen: HashMap<String, usize> = HashMap::new();
                let end = loop {
                    let (event, span) = self.next()?;
                    let key = match event {
                        Event::MappingEnd => break self.end_offset(span),
                        Event::Scalar(key, ..) => key.into_owned(),
                        _ => {
                            return Err(self.error_at(
                                self.offset(span),
                                "a key here is a list or a mapping".into(),
                                "every key of a manifest is a word such as `name` or `address`",
                            ))
                        }
                    };
                    let key_start = self.offset(span);
                    let child = pointer(&path, &key);
                    if let Some(first) = first_seen.get(&key) {
                        let first = self.lines.line_column(self.text, *first);
                        self.diagnostics.push(duplicate_key(&child, &key, first, "mapping"));
                    }
                    first_seen.insert(key.clone(), key_start);
                    self.ranges.keys.insert(child.clone(), (key_start, self.end_offset(span)));
                    let (event, span) = self.next()?;
                    let value = self.node(event, span, child)?;
                    object.insert(key, value);
                };
                (Value::Object(object), anchor, end)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((value, nodes)) => {
                    let (value, nodes) = (value.clone(), *nodes);
                    // The alias node itself was counted above; its copy counts in full.
                    self.count(nodes.saturating_sub(1), start)?;
                    (value, 0, self.end_offset(span))
                }
                None => {
                    return Err(self.error_at(
                        start,
                        "an alias names no anchor".into(),
                        "define `&name` before `*name`",
                    ))
                }
            },
            _ => return Err(self.error_at(start, "unexpected YAML structure".into(), HINT_INDENT)),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), self.nodes - nodes_before));
        }
        self.ranges.values.insert(path, (start, end.max(start)));
        Ok(value)
    }

    /// A scalar by the YAML 1.2 core schema.
    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<(&str, &str)>,
        at: usize,
    ) -> Result<Value, Box<Diagnostic>> {
        let resolve = match tag {
            None => style == ScalarStyle::Plain,
            Some(("!!", "str")) => false,
            Some(("!!", "int" | "float" | "bool" | "null")) => true,
            Some((handle, suffix)) => return Err(self.tag_error(handle, suffix, at)),
        };
        if !resolve {
            return Ok(Value::String(text.to_owned()));
        }
        Ok(match text {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => number(text).unwrap_or_else(|| Value::String(text.to_owned())),
        })
    }

    fn refuse_tag(&self, tag: Option<(&str, &str)>, core: &str, at: usize) -> Result<(), Box<Diagnostic>> {
        match tag {
            None => Ok(()),
            Some(("!!", suffix)) if suffix == core => Ok(()),
            Some((handle, suffix)) => Err(self.tag_error(handle, suffix, at)),
        }
    }

    fn tag_error(&self, handle: &str, suffix: &str, at: usize) -> Box<Diagnostic> {
        self.error_at(
            at,
            format!("the YAML tag {handle}{suffix} is not one lvsdr reads"),
            "remove the tag: a manifest needs only strings, numbers, booleans, lists and mappings",
        )
    }

    /// Counts `nodes` more built at `at`; an error once the document outgrows its budget.
    fn count(&mut self, nodes: usize, at: usize) -> Result<(), Box<Diagnostic>> {
        self.nodes += nodes;
        if self.nodes > self.budget {
            return Err(self.error_at(
                at,
                format!("aliases expand the document beyond {} values", self.budget),
                "a manifest repeats a part with an alias a few times at most; write the parts out",
            ));
        }
        Ok(())
    }

    fn scan_error(&self, error: &ScanError) -> Box<Diagnostic> {
        let marker = error.marker();
        let hint = match error.info().contains("recursion limit") {
            true => "the manifest nests deeper than any valid manifest could; check for runaway brackets",
            false => HINT_INDENT,
        };
        self.error_at(self.lines.offset(self.text, marker.line(), marker.col()), error.info().to_owned(), hint)
    }

    fn error_at(&self, offset: usize, message: String, hint: &str) -> Box<Diagnostic> {
        let mut diagnostic = Diagnostic::new(Code::InvalidJson, "", format!("invalid YAML: {message}")).hint(hint);
        diagnostic.location = Some(self.lines.location(self.text, offset, offset + 1));
        Box::new(diagnostic)
    }

    /// The byte offset where a span starts (saphyr counts characters).
    fn offset(&self, span: Span) -> usize {
        self.lines.offset(self.text, span.start.line(), span.start.col())
    }

    fn end_offset(&self, span: Span) -> usize {
        self.lines.offset(self.text, span.end.line(), span.end.col())
    }
}

const HINT_INDENT: &str = "check the indentation and the `key: value` layout at this position; \
                           `python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' FILE` shows the same error";

/// A YAML 1.2 core-schema number, as JSON would hold it.
fn number(text: &str) -> Option<Value> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => (-1i128, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let integer = if let Some(octal) = text.strip_prefix("0o") {
        i128::from_str_radix(octal, 8).ok()
    } else if let Some(hex) = text.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i128>().ok().map(|n| sign * n)
    } else {
        None
    };
    if let Some(n) = integer {
        return Some(match (u64::try_from(n), i64::try_from(n)) {
            (Ok(n), _) => Value::Number(n.into()),
            (_, Ok(n)) => Value::Number(n.into()),
            // Beyond 64 bits: a float, which the structural check refuses as out of range.
            _ => Value::Number(Number::from_f64(n as f64)?),
        });
    }
    let float_like = !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.as_bytes()[0] != b'e'
        && digits.as_bytes()[0] != b'E';
    if float_like {
        let value: f64 = text.parse().ok()?;
        return Number::from_f64(value).map(Value::Number);
    }
    None
}
