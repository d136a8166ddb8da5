//! The manifest reference: `docs/manifest.md` and lvsdr(5), both generated from the
//! manifest's JSON Schema (itself generated from `raw`), the diagnostic codes and the
//! starting manifest of `lvsdr init`, so that neither can drift from what lvsdr checks.

use crate::codes::Code;
use serde_json::Value;

/// The starting manifest `lvsdr init` writes; the reference's example.
/// `lvsdr init`'s manifest as written, with its platform tokens (`platform_prose`).
const INIT_YAML_SOURCE: &str = include_str!("../../templates/init.yaml");

/// `lvsdr init`'s manifest: the releases it names come from the platform table.
pub fn init_yaml() -> std::borrow::Cow<'static, str> {
    crate::platform_prose::expand(INIT_YAML_SOURCE)
}

/// One key of the manifest, as the reference documents it.
struct Key {
    /// `services[].real_servers[].weight`
    path: String,
    /// `integer, 0-65535`
    kind: String,
    required: bool,
    default: Option<String>,
    example: Option<String>,
    description: String,
    /// Conditions between keys of one object (`if`/`then`), in words.
    rules: Vec<String>,
}

/// The order of the top-level keys in the reference: as a manifest is usually written.
const TOP_ORDER: &[&str] =
    &["version", "cluster", "defaults", "directors", "services", "real_servers", "vrrp_router_id", "$schema"];

fn keys() -> Vec<Key> {
    let schema = crate::schema::manifest();
    let mut out = Vec::new();
    walk(schema, "", &mut out);
    out
}

fn walk(schema: &Value, prefix: &str, out: &mut Vec<Key>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut names: Vec<&String> = properties.keys().collect();
    let rank = |name: &str| {
        let top = if prefix.is_empty() { TOP_ORDER.iter().position(|k| *k == name) } else { None };
        (top.unwrap_or(usize::MAX), name != "name", name.to_owned())
    };
    names.sort_by_key(|name| rank(name));
    for name in names {
        let property = &properties[name];
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let item = property.get("items");
        let mut rules = Vec::new();
        for object in [Some(property), item].into_iter().flatten() {
            if let Some(rule) = condition(object) {
                rules.push(rule);
            }
        }
        out.push(Key {
            path: path.clone(),
            kind: kind(property),
            required: required.contains(&name.as_str()),
            default: property.get("default").filter(|d| !d.is_null()).map(|d| d.to_string()),
            example: property.get("examples").and_then(|e| e.get(0)).map(|e| e.to_string()),
            description: property.get("description").and_then(Value::as_str).unwrap_or("").to_owned(),
            rules,
        });
        walk(property, &path, out);
        if let Some(item) = item {
            walk(item, &format!("{path}[]"), out);
        }
    }
}

/// The value's type and limits, in words.
fn kind(schema: &Value) -> String {
    let base = match schema.get("type").and_then(Value::as_str) {
        Some("array") => match schema.get("items").and_then(|i| i.get("type")).and_then(Value::as_str) {
            Some("object") => "list of objects".to_owned(),
            Some(other) => format!("list of {other}s"),
            None => "list".to_owned(),
        },
        Some(other) => other.to_owned(),
        None => "any".to_owned(),
    };
    let mut limits = Vec::new();
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let words: Vec<String> = values.iter().map(|v| v.as_str().map_or(v.to_string(), str::to_owned)).collect();
        limits.push(format!("one of {}", words.join(", ")));
    }
    if let Some(value) = schema.get("const") {
        limits.push(format!("exactly {value}"));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) if min == max => limits.push(format!("exactly {min}")),
        (Some(min), Some(max)) => limits.push(format!("{min} to {max}")),
        (Some(min), None) => limits.push(format!("at least {min}")),
        (None, Some(max)) => limits.push(format!("at most {max}")),
        (None, None) => {}
    }
    if let Some(n) = schema.get("minItems") {
        limits.push(format!("at least {n} item(s)"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        limits.push(pattern_words(pattern));
    }
    match limits.is_empty() {
        true => base,
        false => format!("{base}, {}", limits.join(", ")),
    }
}

/// A pattern as a reader wants it: the address patterns are long regular expressions.
fn pattern_words(pattern: &str) -> String {
    if pattern.contains("25[0-5]") && pattern.contains('/') {
        "an IPv4 address with its prefix length, a.b.c.d/len".to_owned()
    } else if pattern.contains("25[0-5]") {
        "an IPv4 address, a.b.c.d".to_owned()
    } else {
        format!("matching `{pattern}`")
    }
}

/// An object's `if`/`then` rule in words: "when port is 0, persistence is required and at least 1".
fn condition(schema: &Value) -> Option<String> {
    let when = schema.get("if")?.get("properties")?.as_object()?;
    let then = schema.get("then")?;
    let whens: Vec<String> =
        when.iter().filter_map(|(key, rule)| Some(format!("`{key}` is {}", rule.get("const")?))).collect();
    let mut thens = Vec::new();
    for key in then.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let minimum = then.pointer(&format!("/properties/{key}/minimum")).map(|m| format!(" and at least {m}"));
        thens.push(format!("`{key}` is required{}", minimum.unwrap_or_default()));
    }
    (!whens.is_empty() && !thens.is_empty()).then(|| format!("when {}, {}", whens.join(" and "), thens.join(", ")))
}

/// The rules only `lvsdr check` can see: every manifest code, error or warning.
fn rules() -> Vec<(&'static str, &'static str, &'static str)> {
    Code::ALL.iter().filter(|c| c.about_manifest()).map(|c| (c.as_str(), c.severity().as_str(), c.title())).collect()
}

const INTRO: &str = "A manifest describes one LVS direct-routing cluster: its directors, its \
virtual services and its real servers. It is JSON, or YAML when its file name ends in \
`.yaml` or `.yml` (`--input-format` overrides the name). `lvsdr check` validates it and \
reports every problem at once, each with a code, the key's JSON pointer, line and column, \
and a hint; `lvsdr explain CODE` says why a rule exists. `lvsdr schema` prints its JSON \
Schema, which editors use for completion (a manifest may name it in `$schema`).";

/// `docs/manifest.md`.
pub fn markdown() -> String {
    let mut out = String::from("# The lvsdr manifest, version 1\n\n");
    out += "<!-- Generated from lvsdr's manifest schema, codes and `lvsdr init` template by \
            compiler/src/reference.rs; do not edit. Regenerate: LVSDR_UPDATE_DOCS=1 cargo test --test fixtures -->\n\n";
    out += INTRO;
    out += "\n\nThe same reference is the man page lvsdr(5): `lvsdr man manifest`.\n\n## Keys\n\n";
    out += "A key `a[].b` is the key `b` of each item of the list `a`.\n";
    for key in keys() {
        out += &format!("\n### `{}`\n\n", key.path);
        out += &format!("- type: {}\n", key.kind);
        out += &format!("- {}\n", if key.required { "required" } else { "optional" });
        if let Some(default) = &key.default {
            out += &format!("- default: `{default}`\n");
        }
        if let Some(example) = &key.example {
            out += &format!("- example: `{example}`\n");
        }
        for rule in &key.rules {
            out += &format!("- rule: {rule}\n");
        }
        if !key.description.is_empty() {
            out += &format!("\n{}\n", key.description);
        }
    }
    out += "\n## Rules `lvsdr check` adds\n\nWhat JSON Schema cannot say, and the keyword, \
            pattern and range checks above, each with a stable code (`lvsdr explain CODE`):\n\n";
    out += "| code | severity | rule |\n| --- | --- | --- |\n";
    for (code, severity, title) in rules() {
        out += &format!("| {code} | {severity} | {} |\n", title.replace('|', "\\|"));
    }
    out += "\n## Example\n\nWhat `lvsdr init` writes:\n\n```yaml\n";
    out += &init_yaml();
    out += "```\n";
    out
}

/// Where the generated platform table sits in `docs/platforms.md`.
pub const PLATFORMS_BEGIN: &str =
    "<!-- platforms: generated from compiler/src/platform.rs by compiler/src/reference.rs; \
                                   regenerate with LVSDR_UPDATE_DOCS=1 cargo test --test fixtures -->";
pub const PLATFORMS_END: &str = "<!-- platforms: end -->";

/// `docs/platforms.md`'s table of releases, one row per row of the platform table.
pub fn platforms_markdown() -> String {
    use crate::keywords::{Failover, NetworkStack, Suppression};
    use crate::platform::{InitSystem, MarkTool, Platform};
    let mut out = String::from(
        "| platform | product | boot | network stack (default first) | ARP suppression (default first) \
         | IPv6 VIPs | directors run | firewalld | directors mark with |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for platform in Platform::ALL {
        let p = platform.profile();
        let boot = match p.init {
            InitSystem::SysV => "SysV init, chkconfig",
            InitSystem::Systemd => "systemd",
        };
        let stacks: Vec<&str> = p
            .network_stacks
            .iter()
            .map(|s| match s {
                NetworkStack::NetworkManager => "NetworkManager",
                NetworkStack::Initscripts => "initscripts",
            })
            .collect();
        // The default dialect first, then the others in the row's order.
        let default = p.suppression(p.default_tool).expect("a row has its default tool");
        let dialects: Vec<Suppression> =
            std::iter::once(default).chain(p.dialects.iter().copied().filter(|d| *d != default)).collect();
        let said: Vec<String> = dialects
            .iter()
            .map(|d| match (d, p.rules_service_before_network, p.nft_without_arp_address_match) {
                (Suppression::ArptablesJf, true, _) => "arptables_jf (restored before the network, S08)".to_owned(),
                (Suppression::ArptablesJf, false, _) => "arptables_jf (restored after the network)".to_owned(),
                (Suppression::Nftables, _, Some(version)) => {
                    format!("nftables (warning W0002: {} ships nft {version})", p.product)
                }
                (Suppression::Arptables | Suppression::Nftables | Suppression::Sysctl, _, _) => d.to_string(),
            })
            .collect();
        // IPv6 VIPs need a dialect that keeps Neighbour Discovery quiet for them.
        let guards: Vec<String> = dialects
            .iter()
            .filter(|d| matches!(d, Suppression::Nftables | Suppression::Sysctl))
            .map(|d| d.to_string())
            .collect();
        let ipv6 = match (p.ipv6_vips, guards.len() == dialects.len()) {
            (false, _) => "no".to_owned(),
            (true, true) => "yes".to_owned(),
            (true, false) => format!("with {}", guards.join(" or ")),
        };
        let directors = match (p.failover, p.keepalived_2) {
            (Failover::Piranha, _) => "Piranha (`pulse`)",
            (Failover::Keepalived, true) => "keepalived 2.x",
            (Failover::Keepalived, false) => "keepalived 1.x",
        };
        let marks = match p.director_marks {
            MarkTool::Iptables => "iptables",
            MarkTool::Nftables => "nftables",
        };
        out += &format!(
            "| `{platform}` | {} | {boot} | {} | {} | {ipv6} | {directors} | {} | {marks} |\n",
            p.product,
            stacks.join(", "),
            said.join(", "),
            if p.firewalld { "yes" } else { "no" },
        );
    }
    out
}

/// `docs/platforms.json`: the platform table's defaults for programs that render lvsdr's
/// templates themselves (the benchmark's Jinja2 peer), so that they need no table of
/// their own.
pub fn platforms_json() -> String {
    use crate::keywords::NetworkStack;
    use crate::platform::{InitSystem, Platform};
    let rows: serde_json::Map<String, serde_json::Value> = Platform::ALL
        .iter()
        .map(|platform| {
            let p = platform.profile();
            let row = serde_json::json!({
                "default_dialect": p.suppression(p.default_tool).expect("a row has its default tool").as_str(),
                "init": match p.init { InitSystem::SysV => "sysv", InitSystem::Systemd => "systemd" },
                "default_network_stack": match p.network_stacks[0] {
                    NetworkStack::NetworkManager => "networkmanager",
                    NetworkStack::Initscripts => "initscripts",
                },
                "network_stacks": p.network_stacks.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "failover": p.failover.as_str(),
                "ping6": p.ping6,
            });
            (platform.to_string(), row)
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "$comment": "Generated from compiler/src/platform.rs by compiler/src/reference.rs; do not edit. \
                     Regenerate: LVSDR_UPDATE_DOCS=1 cargo test --test fixtures",
        "platforms": rows,
    }))
    .expect("JSON values serialize");
    text.push('\n');
    text
}

/// lvsdr(5) in roff.
pub fn roff(version: &str) -> String {
    let mut out = format!(".TH LVSDR 5 \"\" \"lvsdr {version}\" \"File Formats\"\n");
    out += ".SH NAME\nlvsdr \\- the manifest of an LVS direct\\-routing cluster, version 1\n";
    out += &format!(".SH DESCRIPTION\n{}\n", escape(INTRO));
    out += ".SH KEYS\nA key \\fIa[].b\\fR is the key \\fIb\\fR of each item of the list \\fIa\\fR.\n";
    for key in keys() {
        out += &format!(".TP\n.B {}\n", escape(&key.path));
        let mut facts = vec![key.kind.clone(), if key.required { "required".into() } else { "optional".into() }];
        if let Some(default) = &key.default {
            facts.push(format!("default {default}"));
        }
        if let Some(example) = &key.example {
            facts.push(format!("e.g. {example}"));
        }
        facts.extend(key.rules.iter().cloned());
        out += &format!("{}.\n", escape(&facts.join("; ")));
        if !key.description.is_empty() {
            out += &format!(".br\n{}\n", escape(&key.description));
        }
    }
    out += ".SH RULES\nWhat \\fBlvsdr check\\fR adds, each with a stable code (\\fBlvsdr explain\\fR \\fICODE\\fR):\n";
    for (code, severity, title) in rules() {
        out += &format!(".TP\n.B {code}\n{} ({severity})\n", escape(title));
    }
    out += ".SH EXAMPLE\nWhat \\fBlvsdr init\\fR writes:\n.PP\n.nf\n";
    for line in init_yaml().lines() {
        out += &escape(line);
        out.push('\n');
    }
    out += ".fi\n.SH SEE ALSO\n\\fBlvsdr\\fR(1)\n";
    out
}

/// Text safe in roff: backslashes escaped, a line never starting as a request, `-` a hyphen.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    text.lines()
        .map(|line| if line.starts_with(['.', '\'']) { format!("\\&{line}") } else { line.to_owned() })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod prose_tests {
    /// Every text with tokens expands (an unknown fact panics) and keeps none.
    #[test]
    fn every_text_expands_whole() {
        let mut texts: Vec<String> = crate::codes::Code::ALL.iter().map(|c| c.explanation().into_owned()).collect();
        texts.push(crate::schema::manifest_schema().to_string());
        texts.push(super::init_yaml().into_owned());
        for text in texts {
            for token in ["{platforms}", "{releases}", "{on:"] {
                assert!(!text.contains(token), "{token} left in {text}");
            }
        }
    }
}
