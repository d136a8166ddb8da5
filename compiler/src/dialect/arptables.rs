//! The arptables 0.0.4/0.0.5 dialect (el7): chains INPUT/OUTPUT/FORWARD, and no counters
//! or COMMIT, because its Perl restore hands every other line to `arptables`.

use super::{Dialect, DialectArtifact, Ipv6Lock, Loader, ServerView, VipDevice};
use crate::contract::{ArtifactKind, InstallKind as Install, RULES_MODE};
use crate::model::RealServer;
use askama::Template;
use std::net::Ipv4Addr;

pub struct Arptables;

/// Where both arptables dialects keep their save file, and the services that restore it.
pub const SAVE_FILE: &str = "/etc/sysconfig/arptables";

#[derive(Template)]
#[template(path = "dialect/arptables.save")]
struct Rules<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

/// The vips script's part, shared by both arptables dialects: they list rules alike and
/// differ in the names of the chains and in who restores the file at boot.
#[derive(Template)]
#[template(path = "dialect/arptables-runtime.sh")]
pub struct Runtime<'a> {
    pub dialect: &'a str,
    pub real_ip: Ipv4Addr,
    /// The chain names this dialect's tool uses first, then a newer tool's over the same hooks.
    pub input_chains: &'a [&'a str],
    pub output_chains: &'a [&'a str],
    /// The save file `vips load` restores in one command when none of lvsdr's rules is
    /// loaded (at boot, after a flush); `None` where the platform's service restores it.
    pub restore: Option<&'a str>,
}

static ARTIFACTS: [DialectArtifact; 1] = [DialectArtifact {
    kind: ArtifactKind::Arptables,
    install_path: SAVE_FILE,
    install: Install::File,
    mode: RULES_MODE,
    activate: "none of its own: lvsdr-arp.service restores it before the network (leave arptables.service off: it starts after the network and its restore flushes under live VIPs)",
    render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
}];

impl Dialect for Arptables {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_runtime(&self, view: &ServerView<'_>) -> askama::Result<String> {
        Runtime {
            dialect: "arptables",
            real_ip: view.real_ip,
            input_chains: &["INPUT"],
            output_chains: &["OUTPUT"],
            restore: Some(SAVE_FILE),
        }
        .render()
    }

    /// el7's arptables-restore (a Perl script reading its file arguments) flushes and then
    /// adds rule by rule: `vips load` uses it only when none of lvsdr's rules is loaded,
    /// and otherwise adds and deletes lvsdr's rules one by one.
    fn loader(&self) -> Loader {
        Loader::Vips
    }

    /// On the service interface, where the rules drop ARP asking for them.
    fn vip_device(&self) -> VipDevice {
        VipDevice::ServiceInterface
    }

    /// None: arptables sees ARP only, never Neighbour Discovery.
    fn ipv6_lock(&self) -> Ipv6Lock {
        Ipv6Lock::None
    }
}
