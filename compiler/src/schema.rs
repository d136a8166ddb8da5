//! Schema: the JSON Schemas (draft 2020-12) of the manifest and of the output contracts.
//!
//! The manifest's comes from its one declaration in `raw` (structure, descriptions,
//! defaults, examples) with the keyword lists, name patterns and ranges of `model`, so it
//! cannot drift from validation: the structural check (`shape`) walks this same schema.
//! Cross-references (a member names a declared server, one segment, unique VIPs) cannot
//! be said in JSON Schema and are left to `lvsdr check`.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::Value;

/// The `$id` the manifest schema names itself by.
pub const SCHEMA_ID: &str = "https://lvsdr.invalid/schema/manifest-v1.json";

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        // One self-contained document is easier on editors and on `shape`'s walk than $refs.
        s.inline_subschemas = true;
    })
}

/// The manifest's schema, generated once per process (the structural check walks it).
pub fn manifest() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(manifest_schema)
}

/// The version-1 manifest's JSON Schema.
pub fn manifest_schema() -> Value {
    let mut schema = settings().into_generator().into_root_schema_for::<crate::raw::Manifest>().to_value();
    schema["$id"] = SCHEMA_ID.into();
    schema["title"] = "lvsdr manifest, version 1".into();
    schema
}

/// The JSON Schema of one of the output contracts (`contract`), for `lvsdr schema WHAT`.
pub fn of<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>().to_value()
}

/// The schemas of the manifest's keys, from `model`'s keywords, patterns and limits.
pub mod keys {
    use crate::lower::{PREFIX_MAX, PREFIX_MIN};
    use crate::model::{limits, Keyword, Platform, Protocol, Scheduler, SuppressionTool};
    use schemars::{json_schema, Schema, SchemaGenerator};

    /// `Name::parse` as a regular expression.
    pub const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
    /// `Interface::parse` as a regular expression.
    pub const INTERFACE_PATTERN: &str = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$";
    /// A dotted quad as Rust's `Ipv4Addr` parses it: no leading zeros.
    const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";

    fn ipv4() -> String {
        format!("{OCTET}\\.{OCTET}\\.{OCTET}\\.{OCTET}")
    }

    fn keywords<K: Keyword>() -> Schema {
        json_schema!({ "type": "string", "enum": K::names() })
    }

    fn integer(min: i64, max: i64) -> Schema {
        json_schema!({ "type": "integer", "minimum": min, "maximum": max })
    }

    pub fn schema_uri(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }

    pub fn version(_: &mut SchemaGenerator) -> Schema {
        integer(1, 1)
    }

    pub fn name(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": NAME_PATTERN })
    }

    pub fn interface(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": INTERFACE_PATTERN })
    }

    pub fn host_address(_: &mut SchemaGenerator) -> Schema {
        // The prefix as `parse_host` takes it: digits, PREFIX_MIN to PREFIX_MAX.
        assert_eq!((PREFIX_MIN, PREFIX_MAX), (8, 32), "the pattern below spells out 8-32");
        let pattern = format!("^{}/0*([89]|[12][0-9]|3[0-2])$", ipv4());
        json_schema!({ "type": "string", "pattern": pattern })
    }

    pub fn vip(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": format!("^{}$", ipv4()) })
    }

    pub fn platform(_: &mut SchemaGenerator) -> Schema {
        keywords::<Platform>()
    }

    pub fn protocol(_: &mut SchemaGenerator) -> Schema {
        keywords::<Protocol>()
    }

    pub fn scheduler(_: &mut SchemaGenerator) -> Schema {
        keywords::<Scheduler>()
    }

    pub fn suppression(_: &mut SchemaGenerator) -> Schema {
        keywords::<SuppressionTool>()
    }

    pub fn port(_: &mut SchemaGenerator) -> Schema {
        integer(0, limits::PORT_MAX)
    }

    pub fn weight(_: &mut SchemaGenerator) -> Schema {
        integer(0, limits::WEIGHT_MAX)
    }

    pub fn persistence(_: &mut SchemaGenerator) -> Schema {
        integer(0, limits::PERSISTENCE_MAX)
    }

    pub fn vrrp_router_id(_: &mut SchemaGenerator) -> Schema {
        integer(limits::VRRP_ROUTER_ID_MIN, limits::VRRP_ROUTER_ID_MAX)
    }

    /// E0017 in JSON Schema: a service on port 0 (every port) must be persistent.
    pub fn port_zero_needs_persistence(schema: &mut Schema) {
        schema
            .insert("if".into(), serde_json::json!({ "properties": { "port": { "const": 0 } }, "required": ["port"] }));
        schema.insert(
            "then".into(),
            serde_json::json!({ "properties": { "persistence": { "minimum": 1 } }, "required": ["persistence"] }),
        );
    }
}
