//! The output tree in memory: every artifact's bytes at its path, plus `index.json`.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::CONFIG_MODE;
use crate::contract::{
    ArtifactEntry, BlockMarkers, DirectorEntry, FailoverEntry, Index, MemberEntry, RealServerEntry, ServiceEntry,
    VipEntry, GENERATOR, INDEX_FILE, TREE_FORMAT,
};
use crate::digest::sha256_hex;
use crate::emit::emit;
use crate::model::{Cluster, ServedVip};
use crate::plan::{plan, HostPlan};
use std::collections::BTreeMap;

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

impl Tree {
    /// The tree's own `index.json`, when it has one that parses.
    pub fn index(&self) -> Option<Index> {
        serde_json::from_str(&self.files.get(INDEX_FILE)?.contents).ok()
    }
}

/// Plans and emits every artifact of the cluster and indexes them.
pub fn build(cluster: &Cluster) -> Tree {
    let mut tree = Tree::default();
    let mut servers = Vec::new();
    let mut directors = Vec::new();
    for host_plan in plan(cluster) {
        let mut artifacts = Vec::new();
        for (position, placement) in host_plan.placements().into_iter().enumerate() {
            let contents = emit(cluster, &host_plan, position);
            let path = placement.tree_path(host_plan.name());
            artifacts.push(ArtifactEntry {
                id: placement.id.clone(),
                kind: placement.kind.to_owned(),
                path: path.clone(),
                install_path: placement.install_path.clone(),
                install: placement.install,
                mode: format!("{:04o}", placement.mode),
                sha256: sha256_hex(&contents),
                activate: placement.activate.clone(),
            });
            tree.files.insert(path, TreeFile { mode: placement.mode, contents });
        }
        match host_plan {
            HostPlan::RealServer(server, _) => servers.push(RealServerEntry {
                name: server.name.to_string(),
                address: server.address.to_string(),
                interface: server.interface.to_string(),
                platform: server.platform.to_string(),
                arp_suppression: server.suppression.to_string(),
                network_stack: server.network_stack.to_string(),
                steps: crate::boot::steps(server),
                vips: vip_entries(&server.vips),
                artifacts,
            }),
            HostPlan::Director(director, _) => directors.push(DirectorEntry {
                name: director.name.to_string(),
                address: director.address.to_string(),
                interface: director.interface.to_string(),
                platform: director.platform.to_string(),
                vips: vip_entries(&director.vips),
                artifacts,
            }),
        }
    }
    let index = Index {
        generator: GENERATOR.to_owned(),
        format: TREE_FORMAT,
        cluster: cluster.name.to_string(),
        block_markers: BlockMarkers::of(cluster.name.as_str()),
        servers,
        directors,
        failover: FailoverEntry { software: cluster.failover.to_string(), vrrp_router_id: cluster.vrrp_router_id },
        services: cluster
            .services
            .iter()
            .map(|s| ServiceEntry {
                name: s.name.to_string(),
                vip: s.vip.to_string(),
                protocol: s.protocol.to_string(),
                port: s.port,
                scheduler: s.scheduler.to_string(),
                persistence: s.persistence,
                real_servers: s
                    .members
                    .iter()
                    .map(|m| MemberEntry { server: m.server.to_string(), weight: m.weight })
                    .collect(),
            })
            .collect(),
    };
    tree.files.insert(INDEX_FILE.to_owned(), TreeFile { mode: CONFIG_MODE, contents: index.to_text() });
    tree
}

fn vip_entries(vips: &[ServedVip]) -> Vec<VipEntry> {
    vips.iter()
        .map(|vip| VipEntry {
            address: vip.address.to_string(),
            label: vip.label.as_ref().map(|l| l.to_string()),
            services: vip.services.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}
