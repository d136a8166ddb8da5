//! The nftables dialect (el8/el9, el7 by choice): a table `arp lvsdr` of lvsdr's own,
//! replaced whole on every load, by lvsdr-arp.service (never through nftables.conf).

use super::{Dialect, DialectArtifact, Loader, ServerView};
use crate::contract::{InstallKind as Install, Step, RULES_MODE};
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
#[template(path = "dialect/nftables-check.sh")]
struct Check {
    real_ip: Ipv4Addr,
}

// Not included from /etc/sysconfig/nftables.conf: nftables.service conflicts with firewalld
// and its stop flushes the whole ruleset, and on an nft too old for this file the include
// would fail the user's whole configuration. lvsdr-arp.service loads it on its own.
static ARTIFACTS: [DialectArtifact; 1] = [DialectArtifact {
    kind: "nftables",
    install_path: SCRIPT_PATH,
    install: Install::File,
    mode: RULES_MODE,
    activate: "none of its own: lvsdr-arp.service loads it before the network (it is not included from nftables.conf)",
    render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
}];

impl Dialect for Nftables {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_check(&self, view: &ServerView<'_>) -> askama::Result<String> {
        Check { real_ip: view.real_ip }.render()
    }

    fn tool(&self) -> &'static str {
        "nft"
    }

    /// The script replaces table `arp lvsdr` in one transaction; unloading deletes that
    /// table and nothing else.
    fn loader(&self, _server: &RealServer) -> Loader {
        Loader::Commands {
            load: vec![Step::new(["/usr/sbin/nft", "-f", SCRIPT_PATH])],
            unload: vec![Step::new(["/usr/sbin/nft", "delete", "table", "arp", "lvsdr"])],
            atomic: true,
        }
    }
}
