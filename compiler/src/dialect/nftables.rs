//! The nftables dialect (el8/el9, el7 by choice): a table `arp lvsdr` of lvsdr's own,
//! replaced whole on every load, and the block that makes nftables.conf include it.

use super::{Dialect, DialectArtifact, ServerView};
use crate::contract::{BlockMarkers, Step};
use crate::contract::{InstallKind as Install, RULES_MODE};
use crate::model::RealServer;
use crate::platform::InitSystem;
use askama::Template;
use std::net::Ipv4Addr;

pub struct Nftables;

/// Where the script is installed; nftables.conf's block includes it from there.
pub const SCRIPT_PATH: &str = "/etc/nftables/lvsdr.nft";

#[derive(Template)]
#[template(path = "dialect/nftables.nft")]
struct Rules<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

#[derive(Template)]
#[template(path = "dialect/nftables-include.conf")]
struct Include<'a> {
    markers: &'a BlockMarkers,
    server: &'a RealServer,
    script_path: &'a str,
}

#[derive(Template)]
#[template(path = "dialect/nftables-check.sh")]
struct Check {
    real_ip: Ipv4Addr,
}

static ARTIFACTS: [DialectArtifact; 2] = [
    DialectArtifact {
        kind: "nftables",
        install_path: SCRIPT_PATH,
        install: Install::File,
        mode: RULES_MODE,
        activate: "systemctl enable nftables.service (it loads /etc/sysconfig/nftables.conf, which includes this file)",
        render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
    },
    DialectArtifact {
        kind: "nftables-include",
        install_path: "/etc/sysconfig/nftables.conf",
        install: Install::Block,
        mode: RULES_MODE,
        activate: "merge this block into /etc/sysconfig/nftables.conf",
        render: |v| Include { markers: v.markers, server: v.server, script_path: SCRIPT_PATH }.render(),
    },
];

impl Dialect for Nftables {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_check(&self, view: &ServerView<'_>) -> askama::Result<String> {
        Check { real_ip: view.real_ip }.render()
    }

    /// The script replaces only table `arp lvsdr`, whatever the init system.
    fn load(&self, _init: InitSystem) -> Vec<Step> {
        vec![Step::new(["nft", "-f", SCRIPT_PATH])]
    }
}
