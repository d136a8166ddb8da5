//! The manifest as written, declared once: serde types that mirror the JSON, annotated
//! for `schemars`. Everything that describes the manifest's keys comes from here — the
//! structural check (`shape` walks the schema generated from these types), `lvsdr schema`
//! and the manifest reference — so they cannot drift apart.
//!
//! Only documents that passed the structural check are deserialized into these, so every
//! field is already of the right JSON type; meaning comes in `lower`. Keyword lists, name
//! patterns and ranges in the schema come from `model`, as validation uses them.

use crate::schema::keys;
use schemars::JsonSchema;
use serde::Deserialize;

/// An LVS direct-routing cluster: directors, virtual services and real servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The JSON Schema the manifest follows, for editors (`lvsdr schema`); lvsdr ignores it.
    #[serde(rename = "$schema", default)]
    #[schemars(schema_with = "keys::schema_uri")]
    pub schema: Option<String>,
    /// The manifest format version: 1.
    #[schemars(schema_with = "keys::version")]
    pub version: i64,
    /// The cluster's name: 1-63 of a-z, 0-9 and '-', starting with a letter or digit; it appears in block markers and comments.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web-prod"]))]
    pub cluster: String,
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
    /// keepalived's virtual_router_id, 1-255; default: derived from the cluster name (1 + FNV-1a(cluster) mod 255).
    #[serde(default)]
    #[schemars(schema_with = "keys::vrrp_router_id")]
    pub vrrp_router_id: Option<i64>,
}

/// Defaults for hosts that omit platform or interface.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Platform of hosts that name none.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform", extend("default" = "el7"))]
    pub platform: Option<String>,
    /// Interface of hosts that name none.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface", extend("default" = "eth0"))]
    pub interface: Option<String>,
}

/// A director: an LVS router that owns the VIPs while it is active.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Director {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among directors and real servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["lvs1"]))]
    pub name: String,
    /// The director's real IPv4 address with its prefix.
    #[schemars(schema_with = "keys::host_address", extend("examples" = ["192.168.10.2/24"]))]
    pub address: String,
    /// Linux interface name (1-15 of A-Za-z0-9_.-); default: defaults.interface, else eth0.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface")]
    pub interface: Option<String>,
    /// RHEL-family release; default: defaults.platform, else el7. el4-el6 run Piranha, el7+ keepalived.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform")]
    pub platform: Option<String>,
}

/// A virtual service: a VIP, protocol and port that IPVS balances over real servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = keys::port_zero_needs_persistence)]
pub struct Service {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among services.
    #[schemars(schema_with = "keys::name", extend("examples" = ["www"]))]
    pub name: String,
    /// The virtual IPv4 address, without a prefix.
    #[schemars(schema_with = "keys::vip", extend("examples" = ["192.168.10.100"]))]
    pub vip: String,
    /// The transport protocol.
    #[serde(default)]
    #[schemars(schema_with = "keys::protocol", extend("default" = "tcp"))]
    pub protocol: Option<String>,
    /// The port; 0 means every port and needs persistence.
    #[schemars(schema_with = "keys::port", extend("examples" = [80]))]
    pub port: i64,
    /// The IPVS scheduler.
    #[serde(default)]
    #[schemars(schema_with = "keys::scheduler", extend("default" = "wlc"))]
    pub scheduler: Option<String>,
    /// Persistence timeout in seconds; 0 is none.
    #[serde(default)]
    #[schemars(schema_with = "keys::persistence", extend("default" = 0))]
    pub persistence: Option<i64>,
    /// The real servers behind this service.
    pub real_servers: Vec<Member>,
}

/// A real server's place in a service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The name of a real server declared in real_servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web1"]))]
    pub server: String,
    /// IPVS weight; 0 quiesces the server.
    #[serde(default)]
    #[schemars(schema_with = "keys::weight", extend("default" = 1))]
    pub weight: Option<i64>,
}

/// A real server: it holds the VIPs of its services but never answers ARP for them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RealServer {
    /// 1-63 of a-z, 0-9 and '-', starting with a letter or digit; unique among directors and real servers.
    #[schemars(schema_with = "keys::name", extend("examples" = ["web1"]))]
    pub name: String,
    /// The server's real IPv4 address with its prefix.
    #[schemars(schema_with = "keys::host_address", extend("examples" = ["192.168.10.11/24"]))]
    pub address: String,
    /// Linux interface name (1-15 of A-Za-z0-9_.-); default: defaults.interface, else eth0.
    #[serde(default)]
    #[schemars(schema_with = "keys::interface")]
    pub interface: Option<String>,
    /// RHEL-family release; default: defaults.platform, else el7.
    #[serde(default)]
    #[schemars(schema_with = "keys::platform")]
    pub platform: Option<String>,
    /// ARP suppression tool; default by platform: el4-el7 arptables, el8-el9 nftables.
    #[serde(default)]
    #[schemars(schema_with = "keys::suppression")]
    pub arp_suppression: Option<String>,
}
