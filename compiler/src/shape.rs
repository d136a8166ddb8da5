//! The manifest's structure as data: which keys each object takes and their JSON types.
//!
//! The structural check walks a parsed document against this table and reports every
//! unknown key, missing key and wrong type at once (serde would stop at the first).

use crate::codes::Code;
use crate::diag::{did_you_mean, pointer, Diagnostic};
use serde_json::Value;

/// The JSON type expected at one place in the manifest.
pub enum Shape {
    Object(&'static [Field]),
    Array(&'static Shape),
    String,
    Integer,
}

/// One key of an object, with the sentence `lvsdr schema` gives as its description.
pub struct Field {
    pub name: &'static str,
    pub shape: &'static Shape,
    pub required: bool,
    pub doc: &'static str,
}

const fn required(name: &'static str, shape: &'static Shape, doc: &'static str) -> Field {
    Field { name, shape, required: true, doc }
}

const fn optional(name: &'static str, shape: &'static Shape, doc: &'static str) -> Field {
    Field { name, shape, required: false, doc }
}

const NAME: &str = "1-63 of a-z, 0-9 and '-', starting with a letter or digit";
const INTERFACE: &str = "Linux interface name (1-15 of A-Za-z0-9_.-); default: defaults.interface, else eth0";
const PLATFORM: &str = "RHEL-family release; default: defaults.platform, else el7";

static DEFAULTS: Shape = Shape::Object(&[
    optional("platform", &Shape::String, "platform of hosts that name none (default el7)"),
    optional("interface", &Shape::String, "interface of hosts that name none (default eth0)"),
]);

static DIRECTOR: Shape = Shape::Object(&[
    required("name", &Shape::String, NAME),
    required("address", &Shape::String, "the director's real IPv4 address with its prefix, e.g. 192.168.10.2/24"),
    optional("interface", &Shape::String, INTERFACE),
    optional("platform", &Shape::String, PLATFORM),
]);

static MEMBER: Shape = Shape::Object(&[
    required("server", &Shape::String, "the name of a real server declared in real_servers"),
    optional("weight", &Shape::Integer, "IPVS weight; 0 quiesces the server (default 1)"),
]);

static SERVICE: Shape = Shape::Object(&[
    required("name", &Shape::String, NAME),
    required("vip", &Shape::String, "the virtual IPv4 address, without a prefix"),
    optional("protocol", &Shape::String, "default tcp"),
    required("port", &Shape::Integer, "0 means every port and needs persistence"),
    optional("scheduler", &Shape::String, "IPVS scheduler (default wlc)"),
    optional("persistence", &Shape::Integer, "persistence timeout in seconds; 0 is none (default 0)"),
    required("real_servers", &Shape::Array(&MEMBER), "the real servers behind this service"),
]);

static REAL_SERVER: Shape = Shape::Object(&[
    required("name", &Shape::String, NAME),
    required("address", &Shape::String, "the server's real IPv4 address with its prefix, e.g. 192.168.10.11/24"),
    optional("interface", &Shape::String, INTERFACE),
    optional("platform", &Shape::String, PLATFORM),
    optional(
        "arp_suppression",
        &Shape::String,
        "ARP suppression tool; default by platform: el4-el7 arptables, el8-el9 nftables",
    ),
]);

/// The whole version-1 manifest.
pub static MANIFEST: Shape = Shape::Object(&[
    required("version", &Shape::Integer, "the manifest format version: 1"),
    required("cluster", &Shape::String, NAME),
    optional("defaults", &DEFAULTS, "defaults for hosts that omit platform or interface"),
    required("directors", &Shape::Array(&DIRECTOR), "the directors, primary first; at least one"),
    required("services", &Shape::Array(&SERVICE), "the virtual services"),
    required("real_servers", &Shape::Array(&REAL_SERVER), "the real servers"),
    optional(
        "vrrp_router_id",
        &Shape::Integer,
        "keepalived's virtual_router_id, 1-255 (default: derived from the cluster name)",
    ),
]);

impl Shape {
    fn describe(&self) -> &'static str {
        match self {
            Shape::Object(_) => "an object",
            Shape::Array(_) => "an array",
            Shape::String => "a string",
            Shape::Integer => "an integer",
        }
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

/// Reports every place where `value` does not have the shape `shape`.
pub fn check(value: &Value, shape: &Shape, path: &str, diagnostics: &mut Vec<Diagnostic>) {
    match (shape, value) {
        (Shape::Object(fields), Value::Object(members)) => {
            for (key, member) in members {
                match fields.iter().find(|f| f.name == key) {
                    Some(field) => check(member, field.shape, &pointer(path, key), diagnostics),
                    None => {
                        let mut diagnostic = Diagnostic::new(
                            Code::UnknownKey,
                            pointer(path, key),
                            format!("unknown key \"{}\"", key.escape_debug()),
                        )
                        .at_key();
                        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                        diagnostic = match did_you_mean(key, known.iter().copied()) {
                            Some(close) => diagnostic.hint(format!("did you mean \"{close}\"?")),
                            None => diagnostic.hint(format!("known keys here: {}", known.join(", "))),
                        };
                        diagnostics.push(diagnostic);
                    }
                }
            }
            for field in fields.iter().filter(|f| f.required && !members.contains_key(f.name)) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        pointer(path, field.name),
                        format!("missing key \"{}\"", field.name),
                    )
                    .hint(format!(
                        "add \"{}\" ({}) to this object",
                        field.name,
                        field.shape.describe()
                    )),
                );
            }
        }
        (Shape::Array(element), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(item, element, &pointer(path, i), diagnostics);
            }
        }
        (Shape::String, Value::String(_)) => {}
        (Shape::Integer, Value::Number(n)) if n.as_i64().is_some() => {}
        (Shape::Integer, Value::Number(n)) if n.is_u64() => diagnostics.push(
            Diagnostic::new(Code::WrongType, path, format!("the integer {n} is too large"))
                .hint("the largest value any key accepts is 2678400 (persistence, in seconds)"),
        ),
        _ => {
            let mut diagnostic = Diagnostic::new(
                Code::WrongType,
                path,
                format!("{} must be {}, found {}", subject(path), shape.describe(), describe_value(value)),
            );
            let hint = match (shape, value) {
                (Shape::Integer, Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
                    format!("write the number without quotes: {}", s.trim())
                }
                (Shape::Integer, Value::Number(_)) => "write a whole number, without a fraction or exponent".into(),
                (Shape::Integer, _) => "write a whole number, e.g. 80".into(),
                (Shape::String, Value::Number(n)) => format!("write it in double quotes: \"{n}\""),
                (Shape::String, _) => "write a string in double quotes".into(),
                (Shape::Array(_), _) => "write a list in square brackets: [ ... ]".into(),
                (Shape::Object(_), _) => "write an object in braces: { ... }".into(),
            };
            diagnostic = diagnostic.hint(hint);
            diagnostics.push(diagnostic);
        }
    }
}
