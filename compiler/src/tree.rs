//! The output tree in memory: every artifact's bytes at its path, plus `index.json`.

use crate::emit::emit;
use crate::model::{Cluster, ServedVip};
use crate::plan::{plan, Host, Install, CONFIG_MODE};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const INDEX_FILE: &str = "index.json";
/// The `generator` value in `index.json`; the writer only replaces trees that carry it.
pub const GENERATOR: &str = "lvsdr";
/// Version of the output tree's layout and of `index.json`.
pub const TREE_FORMAT: u32 = 1;

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub mode: u32,
    pub contents: String,
}

/// The whole output tree: relative path → file, sorted by path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, TreeFile>,
}

/// Plans and emits every artifact of the cluster and indexes them.
pub fn build(cluster: &Cluster) -> Tree {
    let mut tree = Tree::default();
    let mut servers = Vec::new();
    let mut directors = Vec::new();
    for host_plan in plan(cluster) {
        let host = host_plan.host;
        let mut artifacts = Vec::new();
        for artifact in &host_plan.artifacts {
            let contents = emit(cluster, host, artifact);
            let path = artifact.tree_path(host.name());
            artifacts.push(json!({
                "id": artifact.id,
                "kind": artifact.kind.as_str(),
                "path": path,
                "install_path": artifact.install_path,
                "install": match artifact.install {
                    Install::File => "file",
                    Install::Block => "block",
                },
                "mode": format!("{:04o}", artifact.mode),
                "sha256": sha256_hex(&contents),
                "activate": artifact.activate,
            }));
            tree.files.insert(path, TreeFile { mode: artifact.mode, contents });
        }
        match host {
            Host::RealServer(server) => servers.push(json!({
                "name": server.name.as_str(),
                "address": server.address.to_string(),
                "interface": server.interface.as_str(),
                "platform": server.platform.as_str(),
                "arp_suppression": server.suppression.as_str(),
                "vips": vips_json(&server.vips),
                "artifacts": artifacts,
            })),
            Host::Director(director) => directors.push(json!({
                "name": director.name.as_str(),
                "address": director.address.to_string(),
                "interface": director.interface.as_str(),
                "platform": director.platform.as_str(),
                "vips": vips_json(&director.vips),
                "artifacts": artifacts,
            })),
        }
    }
    let index = json!({
        "generator": GENERATOR,
        "format": TREE_FORMAT,
        "cluster": cluster.name.as_str(),
        "block_markers": {
            "begin": format!("# BEGIN lvsdr {}", cluster.name.as_str()),
            "end": format!("# END lvsdr {}", cluster.name.as_str()),
        },
        "servers": servers,
        "directors": directors,
        "failover": {
            "software": cluster.failover.as_str(),
            "vrrp_router_id": cluster.vrrp_router_id,
        },
        "services": cluster.services.iter().map(|s| json!({
            "name": s.name.as_str(),
            "vip": s.vip.to_string(),
            "protocol": s.protocol.as_str(),
            "port": s.port,
            "scheduler": s.scheduler.as_str(),
            "persistence": s.persistence,
            "real_servers": s.members.iter().map(|m| json!({
                "server": m.server.as_str(),
                "weight": m.weight,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    tree.files.insert(INDEX_FILE.to_owned(), TreeFile { mode: CONFIG_MODE, contents: to_json_text(&index) });
    tree
}

fn vips_json(vips: &[ServedVip]) -> Vec<Value> {
    vips.iter()
        .map(|vip| {
            json!({
                "address": vip.address.to_string(),
                "label": vip.label.as_str(),
                "services": vip.services.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Pretty JSON with sorted keys (serde_json's map is ordered) and a final newline.
pub fn to_json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

pub fn sha256_hex(contents: &str) -> String {
    Sha256::digest(contents.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
