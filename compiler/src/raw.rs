//! The manifest as written: serde types that mirror the JSON and nothing more.
//!
//! Only documents that passed the structural check (`shape`) are deserialized into
//! these, so every field is already of the right JSON type; meaning comes in `lower`.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: i64,
    pub cluster: String,
    #[serde(default)]
    pub defaults: Defaults,
    pub directors: Vec<Director>,
    pub services: Vec<Service>,
    pub real_servers: Vec<RealServer>,
    pub vrrp_router_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub platform: Option<String>,
    pub interface: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Director {
    pub name: String,
    pub address: String,
    pub interface: Option<String>,
    pub platform: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    pub vip: String,
    pub protocol: Option<String>,
    pub port: i64,
    pub scheduler: Option<String>,
    pub persistence: Option<i64>,
    pub real_servers: Vec<Member>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub server: String,
    pub weight: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealServer {
    pub name: String,
    pub address: String,
    pub interface: Option<String>,
    pub platform: Option<String>,
    pub arp_suppression: Option<String>,
}
