//! The nftables dialect (el8–el10, el7 by choice): a table `arp lvsdr` of lvsdr's own,
//! replaced whole on every load, by lvsdr-arp.service (never through nftables.conf).

use super::{Dialect, DialectArtifact, Loader, ServerView, VipDevice};
use crate::contract::{InstallKind as Install, CONFIG_MODE, RULES_MODE};
use crate::model::RealServer;
use askama::Template;
use std::net::Ipv4Addr;

pub struct Nftables;

/// Where the script is installed; lvsdr-arp.service loads it from there.
pub const SCRIPT_PATH: &str = "/etc/nftables/lvsdr.nft";

#[derive(Template)]
#[template(path = "dialect/nftables.nft")]
struct Rules<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

#[derive(Template)]
#[template(path = "dialect/nftables-runtime.sh")]
struct Runtime {
    real_ip: Ipv4Addr,
    script: &'static str,
}

#[derive(Template)]
#[template(path = "dialect/nftables.service.conf")]
struct NftablesServiceDropIn<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    script: &'static str,
}

// Not included from /etc/sysconfig/nftables.conf: nftables.service conflicts with firewalld
// and its stop flushes the whole ruleset, and on an nft too old for this file the include
// would fail the user's whole configuration. lvsdr-arp.service loads it on its own.
static ARTIFACTS: [DialectArtifact; 2] = [
    DialectArtifact {
        kind: "nftables",
        install_path: SCRIPT_PATH,
        install: Install::File,
        mode: RULES_MODE,
        activate: "none of its own: lvsdr-arp.service loads it before the network (it is not included from nftables.conf)",
        render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
    },
    // nftables.service's reload and stop flush the whole ruleset, and its start may load a
    // stale saved copy of the table: after each, lvsdr's table is loaded again.
    DialectArtifact {
        kind: "systemd-dropin",
        install_path: "/etc/systemd/system/nftables.service.d/50-lvsdr.conf",
        install: Install::File,
        mode: CONFIG_MODE,
        activate: "systemctl daemon-reload (index.json's steps): nftables.service then runs vips repair after it starts, reloads and stops",
        render: |v| NftablesServiceDropIn { cluster: v.cluster, server: v.server, script: SCRIPT_PATH }.render(),
    },
];

impl Dialect for Nftables {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_runtime(&self, view: &ServerView<'_>) -> askama::Result<String> {
        Runtime { real_ip: view.real_ip, script: SCRIPT_PATH }.render()
    }

    /// `vips load` replaces table `arp lvsdr` in one transaction; unloading deletes that
    /// table and nothing else.
    fn loader(&self) -> Loader {
        Loader::Vips
    }

    /// On the service interface, where the rules drop ARP asking for them.
    fn vip_device(&self) -> VipDevice {
        VipDevice::ServiceInterface
    }
}
