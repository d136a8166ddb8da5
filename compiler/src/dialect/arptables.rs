//! The arptables 0.0.4/0.0.5 dialect (el7): chains INPUT/OUTPUT/FORWARD, and no counters
//! or COMMIT, because its Perl restore hands every other line to `arptables`.

use super::{Dialect, DialectArtifact, Loader, ServerView};
use crate::contract::{InstallKind as Install, Step, RULES_MODE};
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

/// The check, shared by both arptables dialects: they list rules alike and differ in
/// the names of the chains.
#[derive(Template)]
#[template(path = "dialect/arptables-check.sh")]
pub struct Check<'a> {
    pub real_ip: Ipv4Addr,
    pub input_chains: &'a [&'a str],
    pub output_chains: &'a [&'a str],
}

static ARTIFACTS: [DialectArtifact; 1] = [DialectArtifact {
    kind: "arptables",
    install_path: SAVE_FILE,
    install: Install::File,
    mode: RULES_MODE,
    activate: "none of its own: lvsdr-arp.service restores it before the network (leave arptables.service off: it starts after the network)",
    render: |v| Rules { cluster: v.cluster, server: v.server, real_ip: v.real_ip }.render(),
}];

impl Dialect for Arptables {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &ARTIFACTS
    }

    fn render_check(&self, view: &ServerView<'_>) -> askama::Result<String> {
        Check { real_ip: view.real_ip, input_chains: &["INPUT"], output_chains: &["OUTPUT"] }.render()
    }

    fn tool(&self) -> &'static str {
        "arptables"
    }

    /// el7's arptables-restore (a Perl script reading its file arguments) flushes and then
    /// adds rule by rule, so a reload is not atomic; unloading deletes lvsdr's rules only.
    fn loader(&self, server: &RealServer) -> Loader {
        let real_ip = server.address.addr().to_string();
        let mut unload = Vec::new();
        for vip in &server.vips {
            let vip = vip.address.to_string();
            unload.push(Step::new(["/usr/sbin/arptables", "-D", "INPUT", "-d", &vip, "-j", "DROP"]));
            unload.push(Step::new([
                "/usr/sbin/arptables",
                "-D",
                "OUTPUT",
                "-s",
                &vip,
                "-j",
                "mangle",
                "--mangle-ip-s",
                &real_ip,
            ]));
        }
        Loader::Commands { load: vec![Step::new(["/usr/sbin/arptables-restore", SAVE_FILE])], unload, atomic: false }
    }
}
