//! The structural check: walks a parsed document against the manifest's JSON Schema
//! (generated from `raw`, the manifest's one declaration) and reports every unknown key,
//! missing key and wrong type at once (serde would stop at the first).
//!
//! It reads only `type`, `properties`, `required` and `items`: keywords, patterns and
//! ranges are `lower`'s, which reports them with their own codes and hints.

use crate::codes::Code;
use crate::diag::{did_you_mean, pointer, Diagnostic};
use serde_json::Value;

/// "an object", "a string", ... for the JSON type a schema node expects.
fn describe(schema: &Value) -> &'static str {
    if schema["type"].is_array() {
        // Only ports' items have a list of types.
        return "an integer or a string";
    }
    match schema["type"].as_str() {
        Some("object") => "an object",
        Some("array") => "an array",
        Some("string") => "a string",
        Some("integer") => "an integer",
        _ => "a value",
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("the number {n}"),
        Value::Number(n) => format!("the integer {n}"),
        Value::String(s) => format!("the string {}", Value::String(s.clone())),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// How a message names the value at `path`: `"port"`, `item 2 of "directors"`, `the manifest`.
fn subject(path: &str) -> String {
    let mut tokens = path.rsplit('/');
    match (tokens.next(), tokens.next()) {
        (Some(""), None) | (None, _) => "the manifest".into(),
        (Some(index), Some(list)) if index.parse::<usize>().is_ok() => {
            format!("item {index} of \"{list}\"")
        }
        (Some(key), _) => format!("\"{key}\""),
    }
}

/// The JSON type `schema` expects of `value`: its one `type`, or of a list of types
/// (`ports`' items: an integer or a string) the one `value` has, else the first.
fn expected_type<'s>(schema: &'s Value, value: &Value) -> &'s str {
    match &schema["type"] {
        Value::Array(types) => {
            let has = |name: &str| match value {
                Value::String(_) => name == "string",
                Value::Number(_) => name == "integer",
                Value::Array(_) => name == "array",
                Value::Object(_) => name == "object",
                Value::Null | Value::Bool(_) => false,
            };
            let names = types.iter().filter_map(Value::as_str);
            names.clone().find(|name| has(name)).or_else(|| names.clone().next()).unwrap_or_default()
        }
        other => other.as_str().unwrap_or_default(),
    }
}

/// Reports every place where `value` does not have the structure `schema` gives it.
pub fn check(value: &Value, schema: &Value, path: &str, diagnostics: &mut Vec<Diagnostic>) {
    let expected = expected_type(schema, value);
    match (expected, value) {
        ("object", Value::Object(members)) => {
            let empty = serde_json::Map::new();
            let properties = schema["properties"].as_object().unwrap_or(&empty);
            for (key, member) in members {
                match properties.get(key) {
                    Some(property) => check(member, property, &pointer(path, key), diagnostics),
                    None => {
                        let mut diagnostic = Diagnostic::new(
                            Code::UnknownKey,
                            pointer(path, key),
                            format!("unknown key \"{}\"", key.escape_debug()),
                        )
                        .at_key();
                        let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                        diagnostic = match did_you_mean(key, known.iter().copied()) {
                            Some(close) => diagnostic.hint(format!("did you mean \"{close}\"?")),
                            None => diagnostic.hint(format!("known keys here: {}", known.join(", "))),
                        };
                        diagnostics.push(diagnostic);
                    }
                }
            }
            let required = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str);
            for name in required.filter(|name| !members.contains_key(*name)) {
                diagnostics.push(
                    Diagnostic::new(Code::MissingKey, pointer(path, name), format!("missing key \"{name}\""))
                        .hint(format!("add \"{name}\" ({}) to this object", describe(&properties[name]))),
                );
            }
        }
        ("array", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, &schema["items"], &pointer(path, i), diagnostics);
            }
        }
        ("string", Value::String(_)) => {}
        ("integer", Value::Number(n)) if n.as_i64().is_some() => {}
        ("integer", Value::Number(n)) if n.is_u64() => diagnostics.push(
            Diagnostic::new(Code::WrongType, path, format!("the integer {n} is too large"))
                .hint("the largest value any key accepts is 4294967295 (a firewall mark)"),
        ),
        _ => {
            let mut diagnostic = Diagnostic::new(
                Code::WrongType,
                path,
                format!("{} must be {}, found {}", subject(path), describe(schema), describe_value(value)),
            );
            let hint = match (expected, value) {
                ("integer", Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                    format!("write the number without quotes: {}", s.trim())
                }
                ("integer", Value::Number(_)) => "write a whole number, without a fraction or exponent".into(),
                ("integer", _) => "write a whole number, e.g. 80".into(),
                ("string", Value::Number(n)) => format!("write it in double quotes: \"{n}\""),
                ("string", _) => "write a string in double quotes".into(),
                ("array", _) => "write a list in square brackets: [ ... ]".into(),
                _ => "write an object in braces: { ... }".into(),
            };
            diagnostic = diagnostic.hint(hint);
            diagnostics.push(diagnostic);
        }
    }
}
