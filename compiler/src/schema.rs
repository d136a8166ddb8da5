//! Schema: the manifest's JSON Schema (draft 2020-12), generated from the shape table.
//!
//! Structure (keys, types, required keys) comes from `shape`; keyword lists, name
//! patterns and number ranges from `model`, so the schema cannot drift from validation.
//! The cross-references (a member names a declared server, one segment, unique VIPs)
//! are not expressible in JSON Schema and are left to `lvsdr check`.

use crate::model::{limits, Platform, Protocol, Scheduler, SuppressionTool};
use crate::shape::{Shape, MANIFEST};
use serde_json::{json, Map, Value};

/// The `$id` the schema names itself by.
pub const SCHEMA_ID: &str = "https://lvsdr.invalid/schema/manifest-v1.json";

/// `Name::parse` as a regular expression.
const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
/// `Interface::parse` as a regular expression.
const INTERFACE_PATTERN: &str = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$";

/// The version-1 manifest's JSON Schema.
pub fn manifest_schema() -> Value {
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "lvsdr manifest, version 1",
        "description": "An LVS direct-routing cluster: directors, virtual services and real servers.",
    });
    if let (Value::Object(top), Value::Object(body)) = (&mut schema, of_shape(&MANIFEST, None)) {
        top.extend(body);
    }
    schema
}

fn of_shape(shape: &Shape, key: Option<&str>) -> Value {
    match shape {
        Shape::Object(fields) => {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|f| {
                    let mut property = of_shape(f.shape, Some(f.name));
                    property["description"] = f.doc.into();
                    (f.name.to_owned(), property)
                })
                .collect();
            let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
            json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
        }
        Shape::Array(element) => {
            let mut array = json!({ "type": "array", "items": of_shape(element, None) });
            if key == Some("directors") {
                array["minItems"] = 1.into();
            }
            array
        }
        Shape::String => {
            let mut string = json!({ "type": "string" });
            match key {
                Some("name" | "cluster" | "server") => string["pattern"] = NAME_PATTERN.into(),
                Some("interface") => string["pattern"] = INTERFACE_PATTERN.into(),
                Some("platform") => string["enum"] = json!(Platform::names()),
                Some("protocol") => string["enum"] = json!(Protocol::names()),
                Some("scheduler") => string["enum"] = json!(Scheduler::names()),
                Some("arp_suppression") => string["enum"] = json!(SuppressionTool::names()),
                _ => {}
            }
            string
        }
        Shape::Integer => {
            let range = match key {
                Some("version") => Some((1, 1)),
                Some("port") => Some((0, limits::PORT_MAX)),
                Some("weight") => Some((0, limits::WEIGHT_MAX)),
                Some("persistence") => Some((0, limits::PERSISTENCE_MAX)),
                Some("vrrp_router_id") => Some((limits::VRRP_ROUTER_ID_MIN, limits::VRRP_ROUTER_ID_MAX)),
                _ => None,
            };
            match range {
                Some((min, max)) => json!({ "type": "integer", "minimum": min, "maximum": max }),
                None => json!({ "type": "integer" }),
            }
        }
    }
}

/// The JSON Schema of one of the output contracts (`contract`), for `lvsdr schema WHAT`.
pub fn of<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}
