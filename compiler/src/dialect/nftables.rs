//! The nftables dialect (el8–el10, el7 by choice): tables `arp lvsdr` and, for IPv6 VIPs,
//! `ip6 lvsdr` of lvsdr's own, replaced whole on every load, by lvsdr-arp.service (never
//! through nftables.conf).

use super::{Dialect, DialectArtifact, Ipv6Lock, Loader, ServerView, VipDevice};
use crate::contract::{ArtifactKind, InstallKind as Install, CONFIG_MODE, RULES_MODE};
use crate::model::RealServer;
use askama::Template;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub struct Nftables;

/// Where the script is installed; lvsdr-arp.service loads it from there.
pub const SCRIPT_PATH: &str = "/etc/nftables/lvsdr.nft";

#[derive(Template)]
#[template(path = "dialect/nftables.nft")]
struct Rules<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
    real_ip6: Option<Ipv6Addr>,
    vips4: Vec<Ipv4Addr>,
    vips6: Vec<Target>,
}

/// An IPv6 VIP as the ND rules match it.
struct Target {
    address: Ipv6Addr,
    /// The address as one 128-bit number in lowercase hex without leading zeros, as nft
    /// takes it and lists it back.
    hex: String,
}

impl<'a> Rules<'a> {
    fn of(v: &ServerView<'a>) -> Rules<'a> {
        let (mut vips4, mut vips6) = (Vec::new(), Vec::new());
        for vip in &v.server.vips {
            match vip.address {
                IpAddr::V4(address) => vips4.push(address),
                IpAddr::V6(address) => vips6.push(Target { address, hex: format!("{:#x}", u128::from(address)) }),
            }
        }
        Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip, real_ip6: v.real_ip6, vips4, vips6 }
    }
}

#[derive(Template)]
#[template(path = "dialect/nftables-runtime.sh")]
struct Runtime {
    real_ip: Ipv4Addr,
    /// `-` when the server has no IPv6 address (and so no IPv6 VIP).
    real_ip6: String,
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
        kind: ArtifactKind::Nftables,
        install_path: SCRIPT_PATH,
        install: Install::File,
        mode: RULES_MODE,
        activate: "none of its own: lvsdr-arp.service loads it before the network (it is not included from nftables.conf)",
        render: |v| Rules::of(v).render(),
    },
    // nftables.service's reload and stop flush the whole ruleset, and its start may load a
    // stale saved copy of the table: after each, lvsdr's table is loaded again.
    DialectArtifact {
        kind: ArtifactKind::SystemdDropin,
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
        let real_ip6 = view.real_ip6.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        Runtime { real_ip: view.real_ip, real_ip6, script: SCRIPT_PATH }.render()
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

    /// Its table `ip6 lvsdr`, loaded in the same transaction as `arp lvsdr`.
    fn ipv6_lock(&self) -> Ipv6Lock {
        Ipv6Lock::Rules
    }
}
