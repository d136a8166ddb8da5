//! The manifest as written, declared once: serde types that mirror the JSON, annotated
//! for `schemars`. Everything that describes the manifest's keys comes from here — the
//! structural check (`shape` walks the schema generated from these types), `lvsdr schema`
//! and the manifest reference — so they cannot drift apart.
//!
//! Only documents that passed the structural check are deserialized into these, so every
//! field is already of the right JSON type; meaning comes in `lower`. Keyword lists, name
//! patterns and ranges in the schema come from `model`, as validation uses them.

use schemars::JsonSchema;
use serde::Deserialize;
use smol_str::SmolStr;

/// An LVS direct-routing cluster: directors, virtual services and real servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema the manifest follows, for editors (`lvsdr schema`); lvsdr ignores it.
    #[expect(dead_code, reason = "accepted for editors, read by nothing")]
    #[serde(rename = "$schema", default)]
    #[schemars(schema_with = "keys::schema_uri")]
    pub schema: Option<SmolStr>,
    /// The manifest format version: 1.
    #[schemars(schema_with = "keys::version")]
    pub version: i64,
    /// The cluster's name: 1-63 of a-z, 0-9 and '-', starting with a letter or digit; it appears in block markers and comments.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web-prod"]))]
    pub cluster: SmolStr,
    /// Defaults for hosts that omit platform or interface.
    #[serde(default)]
    pub defaults: Defaults,
    /// The directors (LVS routers), primary first; at least one.
    #[schemars(length(min = 1))]
    pub directors: Vec<Director>,
    /// The virtual services.
    pub services: Vec<Service>,
    /// The real servers.
    pub real_servers: Vec<RealServer>,
    /// keepalived's virtual_router_id, 1-255; default: derived from the cluster name (1 + FNV-1a(cluster) mod 255). The same as vrrp.router_id: give one of them.
    #[serde(default)]
    #[schemars(schema_with = "keys::vrrp_router_id")]
    pub vrrp_router_id: Option<i64>,
    /// How the keepalived directors run VRRP ({on:keepalived}).
    #[serde(default)]
    pub vrrp: Option<Vrrp>,
}

/// The keepalived directors' VRRP: how they elect the one that holds the VIPs.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vrrp {
    /// virtual_router_id, 1-255; default: derived from the cluster name (1 + FNV-1a(cluster) mod 255).
    #[serde(default)]
    #[schemars(schema_with = "keys::vrrp_router_id")]
    pub router_id: Option<i64>,
    /// Router ids other VRRP routers on the segment use (other clusters, routers); lvsdr refuses a router_id among them.
    #[serde(default)]
    #[schemars(schema_with = "keys::router_ids")]
    pub router_ids_in_use: Option<Vec<i64>>,
    /// Seconds between the master's advertisements, 1-255; the backup takes over after about 3 of them.
    #[serde(default)]
    #[schemars(schema_with = "keys::advert_int", extend("default" = 1))]
    pub advert_int: Option<i64>,
    /// Advertise to the other directors' addresses (unicast_peer) instead of the VRRP multicast group: for networks that drop multicast.
    #[serde(default)]
    #[schemars(extend("default" = false))]
    pub unicast: Option<bool>,
    /// Whether the primary takes the VIPs back when it returns; false writes nopreempt (every director starts as BACKUP).
    #[serde(default)]
    #[schemars(extend("default" = true))]
    pub preempt: Option<bool>,
    /// Seconds a returning primary waits before it takes the VIPs back, 1-1000 (preempt_delay).
    #[serde(default)]
    #[schemars(schema_with = "keys::preempt_delay")]
    pub preempt_delay: Option<i64>,
    /// Interfaces whose failure moves the VIPs away (track_interface), besides the director's own.
    #[serde(default)]
    #[schemars(schema_with = "keys::interfaces")]
    pub track_interfaces: Option<Vec<SmolStr>>,
    /// An absolute path to a script keepalived runs on every state change (notify): it gets the instance, its name and the new state.
    #[serde(default)]
    #[schemars(schema_with = "keys::script_path", extend("examples" = ["/usr/local/sbin/lvs-notify"]))]
    pub notify: Option<SmolStr>,
}

/// Defaults for hosts that omit platform or interface.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Platform of hosts that name none.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform", extend("default" = "el7"))]
    pub platform: Option<SmolStr>,
    /// Interface of hosts that name none.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface", extend("default" = "eth0"))]
    pub interface: Option<SmolStr>,
    /// Network stack of real servers that name none; default: the platform's (NetworkManager on {on:default-networkmanager}, initscripts on {on:default-initscripts}).
    #[serde(default)]
    #[schemars(schema_with = "keys::network_stack")]
    pub network_stack: Option<SmolStr>,
}

/// A director: an LVS router that owns the VIPs while it is active.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Director {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among directors and real servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["lvs1"]))]
    pub name: SmolStr,
    /// The director's real IPv4 address with its prefix.
    #[schemars(schema_with = "keys::host_address", extend("examples" = ["192.168.10.2/24"]))]
    pub address: SmolStr,
    /// The director's IPv6 address on the segment with its prefix; needed when a service has an IPv6 VIP.
    #[serde(default)]
    #[schemars(schema_with = "keys::host_address6", extend("examples" = ["2001:db8:10::2/64"]))]
    pub address6: Option<SmolStr>,
    /// Linux interface name (1-15 of A-Za-z0-9_.-); default: defaults.interface, else eth0.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface")]
    pub interface: Option<SmolStr>,
    /// RHEL-family release; default: defaults.platform, else el7. {on:piranha} run Piranha, {on:keepalived} keepalived.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform")]
    pub platform: Option<SmolStr>,
    /// The firewall it runs, which its tree lets VRRP and the services' ports in through: firewalld ({on:firewalld}; the default there) or none (the default on {on:no-firewalld}).
    #[serde(default)]
    #[schemars(schema_with = "keys::firewall")]
    pub firewall: Option<SmolStr>,
}

/// A virtual service: a VIP, protocol and port that IPVS balances over real servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = keys::port_zero_needs_persistence, transform = keys::port_or_ports)]
pub struct Service {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among services.
    #[schemars(schema_with = "keys::name", extend("examples" = ["www"]))]
    pub name: SmolStr,
    /// The virtual IP address, IPv4 or IPv6, without a prefix. An IPv6 VIP needs address6 on every director and on its real servers.
    #[schemars(schema_with = "keys::vip", extend("examples" = ["192.168.10.100"]))]
    pub vip: SmolStr,
    /// The transport protocol.
    #[serde(default)]
    #[schemars(schema_with = "keys::protocol", extend("default" = "tcp"))]
    pub protocol: Option<SmolStr>,
    /// The port; 0 means every port and needs persistence. A service has port or ports.
    #[serde(default)]
    #[schemars(schema_with = "keys::port", extend("examples" = [80]))]
    pub port: Option<i64>,
    /// Several ports as one IPVS service (a firewall-mark service): ports 1-65535 and "FIRST-LAST" ranges; persistence then holds across them. The directors mark the packets; the real servers need nothing new.
    #[serde(default)]
    #[schemars(schema_with = "keys::ports", extend("examples" = [[80, 443]]))]
    pub ports: Option<Vec<PortItem>>,
    /// The netfilter mark that names a ports service, 1-4294967295, unique in the cluster; default: the lowest mark no service declares, in manifest order.
    #[serde(default)]
    #[schemars(schema_with = "keys::firewall_mark")]
    pub firewall_mark: Option<i64>,
    /// The IPVS scheduler.
    #[serde(default)]
    #[schemars(schema_with = "keys::scheduler", extend("default" = "wlc"))]
    pub scheduler: Option<SmolStr>,
    /// Persistence timeout in seconds; 0 is none.
    #[serde(default)]
    #[schemars(schema_with = "keys::persistence", extend("default" = 0))]
    pub persistence: Option<i64>,
    /// How the directors check each real server; default: a TCP connect to the service's port (TCP), a ping (UDP, or every port).
    #[serde(default)]
    pub health_check: Option<HealthCheck>,
    /// The address of a declared real server that takes the service when no real server is up (or the quorum is lost); it holds the VIP behind ARP suppression like the others (keepalived only).
    #[serde(default)]
    #[schemars(schema_with = "keys::vip", extend("examples" = ["192.168.10.20"]))]
    pub sorry_server: Option<SmolStr>,
    /// The total weight of healthy real servers below which the service counts as down (keepalived only); default: 1.
    #[serde(default)]
    #[schemars(schema_with = "keys::quorum")]
    pub quorum: Option<i64>,
    /// How far the healthy weight may swing around quorum before the service changes state (keepalived's hysteresis); below quorum.
    #[serde(default)]
    #[schemars(schema_with = "keys::quorum", extend("default" = 0))]
    pub hysteresis: Option<i64>,
    /// The real servers behind this service.
    pub real_servers: Vec<Member>,
}

/// An item of a service's `ports`: a port, or a "FIRST-LAST" range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PortItem {
    Port(i64),
    Range(SmolStr),
}

/// How a director checks a real server. Keys a member sets override the service's.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// tcp (connect), http or https (a GET of path, then the status or digest), command (a program on the director; exit status 0 is up) or none (always up).
    #[serde(default, rename = "type")]
    #[schemars(schema_with = "keys::check_type")]
    pub kind: Option<SmolStr>,
    /// The port the check connects to; default: the service's port (needed for a service on every port).
    #[serde(default)]
    #[schemars(schema_with = "keys::check_port")]
    pub port: Option<i64>,
    /// http, https: the path to GET, starting with '/'.
    #[serde(default)]
    #[schemars(schema_with = "keys::url_path", extend("default" = "/"))]
    pub path: Option<SmolStr>,
    /// http, https: the status the answer must have, 100-599; default 200 unless digest is given.
    #[serde(default)]
    #[schemars(schema_with = "keys::status")]
    pub status: Option<i64>,
    /// http, https: the MD5 of the body the answer must have, 32 hex digits (genhash prints it).
    #[serde(default)]
    #[schemars(schema_with = "keys::digest")]
    pub digest: Option<SmolStr>,
    /// http, https: the Host header (and TLS server name); default: the real server's address.
    #[serde(default)]
    #[schemars(schema_with = "keys::hostname", extend("examples" = ["www.example.com"]))]
    pub host: Option<SmolStr>,
    /// command: the program (an absolute path) and its arguments; {address} and {port} stand for the real server's address and the checked port.
    #[serde(default)]
    #[schemars(schema_with = "keys::command")]
    pub command: Option<Vec<SmolStr>>,
    /// Seconds between checks, 1-3600 (delay_loop).
    #[serde(default)]
    #[schemars(schema_with = "keys::seconds", extend("default" = 6))]
    pub interval: Option<i64>,
    /// Seconds a check may take, 1-3600 (connect_timeout, misc_timeout).
    #[serde(default)]
    #[schemars(schema_with = "keys::seconds", extend("default" = 3))]
    pub timeout: Option<i64>,
    /// How many times a failed check is retried before the real server counts as down, 0-100 (keepalived's retry: 0 takes it out at the first failure); default: keepalived's.
    #[serde(default)]
    #[schemars(schema_with = "keys::retries")]
    pub retries: Option<i64>,
    /// Seconds between those retries, 1-3600 (delay_before_retry); default: keepalived's.
    #[serde(default)]
    #[schemars(schema_with = "keys::seconds")]
    pub retry_delay: Option<i64>,
    /// What a failed real server gets: remove (out of IPVS) or inhibit (kept at weight 0, its connections left to finish; inhibit_on_failure).
    #[serde(default)]
    #[schemars(schema_with = "keys::on_failure", extend("default" = "remove"))]
    pub on_failure: Option<SmolStr>,
}

/// A real server's place in a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The name of a real server declared in real_servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web1"]))]
    pub server: SmolStr,
    /// IPVS weight; 0 quiesces the server.
    #[serde(default)]
    #[schemars(schema_with = "keys::weight", extend("default" = 1))]
    pub weight: Option<i64>,
    /// Keys of the service's health_check that differ for this real server (keepalived only).
    #[serde(default)]
    // Boxed: a member is held once per membership (half a million in a large manifest),
    // and few have a check of their own; inline, the check's keys would multiply that.
    pub health_check: Option<Box<HealthCheck>>,
}

/// A real server: it holds the VIPs of its services but never answers ARP for them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RealServer {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among directors and real servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web1"]))]
    pub name: SmolStr,
    /// The server's real IPv4 address with its prefix.
    #[schemars(schema_with = "keys::host_address", extend("examples" = ["192.168.10.11/24"]))]
    pub address: SmolStr,
    /// The server's IPv6 address on the segment with its prefix; needed when it serves an IPv6 VIP.
    #[serde(default)]
    #[schemars(schema_with = "keys::host_address6", extend("examples" = ["2001:db8:10::11/64"]))]
    pub address6: Option<SmolStr>,
    /// Linux interface name (1-15 of A-Za-z0-9_.-); default: defaults.interface, else eth0.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface")]
    pub interface: Option<SmolStr>,
    /// RHEL-family release; default: defaults.platform, else el7.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform")]
    pub platform: Option<SmolStr>,
    /// ARP suppression: netfilter rules (arptables, nftables) or the kernel's switches with the VIPs on lo (sysctl, every platform); default by platform: {on:default-arptables} arptables, {on:default-nftables} nftables.
    #[serde(default)]
    #[schemars(schema_with = "keys::suppression")]
    pub arp_suppression: Option<SmolStr>,
    /// What configures its interfaces: networkmanager ({on:networkmanager}; the default there) or initscripts ({on:initscripts}'s network service; the default on {on:default-initscripts}).
    #[serde(default)]
    #[schemars(schema_with = "keys::network_stack")]
    pub network_stack: Option<SmolStr>,
}

/// The schemas of the manifest's keys, from `model`'s keywords, patterns and limits.
pub mod keys {
    use crate::model::limits::{self, PREFIX6_MAX, PREFIX6_MIN, PREFIX_MAX, PREFIX_MIN};
    use crate::model::{
        CheckType, Firewall, Keyword, NetworkStack, OnFailure, Platform, Protocol, Scheduler, SuppressionTool,
    };
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

    /// What IPv6 text may hold: hex digits and colons (with at least one), and a dotted
    /// tail. The grammar itself is lowering's (`Ipv6Addr`'s parser); JSON Schema's
    /// `format: ipv6` says the rest to validators that assert formats.
    const IPV6: &str = "[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*";

    pub fn host_address6(_: &mut SchemaGenerator) -> Schema {
        // The prefix as `parse_host6` takes it: digits, PREFIX6_MIN to PREFIX6_MAX.
        assert_eq!((PREFIX6_MIN, PREFIX6_MAX), (16, 128), "the pattern below spells out 16-128");
        let pattern = format!("^{IPV6}/0*(1[6-9]|[2-9][0-9]|1[01][0-9]|12[0-8])$");
        json_schema!({ "type": "string", "pattern": pattern })
    }

    pub fn vip(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "anyOf": [
                { "pattern": format!("^{}$", ipv4()) },
                { "pattern": format!("^{IPV6}$"), "format": "ipv6" }
            ]
        })
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

    pub fn network_stack(_: &mut SchemaGenerator) -> Schema {
        keywords::<NetworkStack>()
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

    pub fn router_ids(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": integer(limits::VRRP_ROUTER_ID_MIN, limits::VRRP_ROUTER_ID_MAX) })
    }

    pub fn advert_int(_: &mut SchemaGenerator) -> Schema {
        integer(1, limits::ADVERT_INT_MAX)
    }

    pub fn preempt_delay(_: &mut SchemaGenerator) -> Schema {
        integer(1, limits::PREEMPT_DELAY_MAX)
    }

    pub fn interfaces(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": { "type": "string", "pattern": INTERFACE_PATTERN } })
    }

    pub fn script_path(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": 255, "pattern": crate::model::ScriptPath::PATTERN })
    }

    pub fn quorum(_: &mut SchemaGenerator) -> Schema {
        integer(0, limits::QUORUM_MAX)
    }

    pub fn firewall(_: &mut SchemaGenerator) -> Schema {
        keywords::<Firewall>()
    }

    pub fn check_type(_: &mut SchemaGenerator) -> Schema {
        keywords::<CheckType>()
    }

    pub fn on_failure(_: &mut SchemaGenerator) -> Schema {
        keywords::<OnFailure>()
    }

    pub fn url_path(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": 1024, "pattern": crate::model::UrlPath::PATTERN })
    }

    pub fn status(_: &mut SchemaGenerator) -> Schema {
        integer(100, 599)
    }

    pub fn digest(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[0-9a-fA-F]{32}$" })
    }

    pub fn hostname(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": 253, "pattern": crate::model::Hostname::PATTERN })
    }

    pub fn command(_: &mut SchemaGenerator) -> Schema {
        // The first word is the program, an absolute path.
        json_schema!({
            "type": "array",
            "minItems": 1,
            "prefixItems": [{ "pattern": crate::model::ScriptPath::PATTERN }],
            "items": { "type": "string", "maxLength": 255, "pattern": crate::model::CheckWord::PATTERN }
        })
    }

    /// A port 1-65535, as a regular expression (for ranges' ends).
    const PORT_TEXT: &str = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";

    pub fn ports(_: &mut SchemaGenerator) -> Schema {
        assert_eq!(limits::PORT_MAX, 65535, "PORT_TEXT spells out 1-65535");
        json_schema!({
            "type": "array",
            "minItems": 1,
            "items": {
                "type": ["integer", "string"],
                "minimum": 1,
                "maximum": limits::PORT_MAX,
                "pattern": format!("^{PORT_TEXT}-{PORT_TEXT}$")
            }
        })
    }

    pub fn firewall_mark(_: &mut SchemaGenerator) -> Schema {
        integer(1, limits::FIREWALL_MARK_MAX)
    }

    /// E0058 and E0059 in JSON Schema: a service has `port` or `ports`, not both, and
    /// `firewall_mark` only with `ports`.
    pub fn port_or_ports(schema: &mut Schema) {
        schema.insert("oneOf".into(), serde_json::json!([{ "required": ["port"] }, { "required": ["ports"] }]));
        schema.insert("dependentRequired".into(), serde_json::json!({ "firewall_mark": ["ports"] }));
    }

    pub fn check_port(_: &mut SchemaGenerator) -> Schema {
        integer(1, limits::PORT_MAX)
    }

    pub fn seconds(_: &mut SchemaGenerator) -> Schema {
        integer(1, limits::CHECK_SECONDS_MAX)
    }

    pub fn retries(_: &mut SchemaGenerator) -> Schema {
        integer(limits::CHECK_RETRIES_MIN, limits::CHECK_RETRIES_MAX)
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
