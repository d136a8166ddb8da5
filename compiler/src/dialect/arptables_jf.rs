//! The arptables_jf dialect (el4–el6): chains IN/OUT/FORWARD (its libarptc names the
//! hooks so), `[0:0]` counters and COMMIT, because its init script pipes the file to
//! `arptables-restore -c`.

use super::arptables::{Runtime, SAVE_FILE};
use super::{Dialect, DialectArtifact, Ipv6Lock, Loader, ServerView, VipDevice};
use crate::contract::{ArtifactKind, InstallKind as Install, RULES_MODE};
use crate::model::RealServer;
use askama::Template;
use std::net::Ipv4Addr;

pub struct ArptablesJf;

#[derive(Template)]
#[template(path = "dialect/arptables_jf.save")]
struct Rules<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

static ARTIFACTS: [DialectArtifact; 1] = [DialectArtifact {
    kind: ArtifactKind::ArptablesJf,
    install_path: SAVE_FILE,
    install: Install::File,
    mode: RULES_MODE,
    activate: "chkconfig --level 2345 arptables_jf on: its init script restores this file at boot (el4/el5 before the network, el6 after it), before rc.local brings the VIPs up",
    render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
}];

impl Dialect for ArptablesJf {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_runtime(&self, view: &ServerView<'_>) -> askama::Result<String> {
        // arptables_jf names the hooks IN and OUT; a host whose arptables names them INPUT
        // and OUTPUT (a newer tool over the same kernel hooks) has lvsdr's rules there.
        Runtime {
            dialect: "arptables_jf",
            real_ip: view.real_ip,
            input_chains: &["IN", "INPUT"],
            output_chains: &["OUT", "OUTPUT"],
            restore: None,
        }
        .render()
    }

    fn loader(&self) -> Loader {
        Loader::Service { name: "arptables_jf" }
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
