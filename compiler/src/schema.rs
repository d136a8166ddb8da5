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
pub(crate) fn manifest() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(manifest_schema)
}

/// The version-1 manifest's JSON Schema.
pub fn manifest_schema() -> Value {
    let mut schema = settings().into_generator().into_root_schema_for::<crate::raw::Manifest>().to_value();
    schema["$id"] = SCHEMA_ID.into();
    schema["title"] = "lvsdr manifest, version 1".into();
    crate::platform_prose::expand_descriptions(&mut schema);
    schema
}

/// The JSON Schema of one of the output contracts (`contract`), for `lvsdr schema WHAT`.
pub fn of<T: JsonSchema>() -> Value {
    let mut schema = SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>().to_value();
    crate::platform_prose::expand_descriptions(&mut schema);
    schema
}
