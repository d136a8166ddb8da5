//! A real server's artifacts: its dialect's, the vips script with the dialect's check,
//! lvsdr's systemd units, the NetworkManager dispatcher, ifcfg alias files and the
//! ifup-local and rc.local blocks.

use crate::contract::{BlockMarkers, Step};
use crate::dialect::{dialect, ServerView};
use crate::model::{AliasLabel, Cluster, RealServer, ServedVip};
use crate::plan::ServerArtifact;
use askama::Template;

#[derive(Template)]
#[template(path = "ifcfg-alias.ifcfg")]
struct IfcfgAlias<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    vip: &'a ServedVip,
    label: &'a AliasLabel,
}

#[derive(Template)]
#[template(path = "vips.sh")]
struct Vips<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    /// The dialect's `lvsdr_protected` function.
    check: &'a str,
    /// The command the check reads.
    tool: &'a str,
}

#[derive(Template)]
#[template(path = "rc.local.sh")]
struct RcLocal<'a> {
    markers: &'a BlockMarkers,
    server: &'a RealServer,
    /// What loads the rules when no service of the platform's does.
    preload: &'a [Step],
}

#[derive(Template)]
#[template(path = "ifup-local.sh")]
struct IfupLocal<'a> {
    markers: &'a BlockMarkers,
    server: &'a RealServer,
}

#[derive(Template)]
#[template(path = "nm-dispatcher.sh")]
struct NmDispatcher<'a> {
    cluster: &'a str,
    server: &'a RealServer,
}

#[derive(Template)]
#[template(path = "systemd/lvsdr-arp.service")]
struct SuppressionUnit<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    load: &'a [Step],
    unload: &'a [Step],
}

#[derive(Template)]
#[template(path = "systemd/lvsdr-vips.service")]
struct VipsUnit<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    /// The unit that loads the rules.
    loader: &'a str,
    /// The interface's device unit.
    device: &'a str,
}

#[derive(Template)]
#[template(path = "systemd/lvsdr-guard.service")]
struct GuardService<'a> {
    cluster: &'a str,
    server: &'a RealServer,
}

#[derive(Template)]
#[template(path = "systemd/lvsdr-guard.timer")]
struct GuardTimer<'a> {
    cluster: &'a str,
    server: &'a RealServer,
}

pub fn emit_server(cluster: &Cluster, server: &RealServer, artifact: &ServerArtifact<'_>) -> askama::Result<String> {
    let markers = BlockMarkers::of(cluster.name.as_str());
    let view = ServerView { cluster: cluster.name.as_str(), server, real_ip: server.address.addr() };
    let cluster = view.cluster;
    let dialect = dialect(server.suppression);
    match artifact {
        ServerArtifact::Suppression(spec) => (spec.render)(&view),
        ServerArtifact::VipsScript => {
            let check = dialect.render_check(&view)?;
            Vips { cluster, server, check: &check, tool: dialect.tool() }.render()
        }
        ServerArtifact::IfcfgAlias(vip, label) => IfcfgAlias { cluster, server, vip, label }.render(),
        ServerArtifact::RcLocal { preload } => RcLocal { markers: &markers, server, preload }.render(),
        ServerArtifact::IfupLocal => IfupLocal { markers: &markers, server }.render(),
        ServerArtifact::NetworkManagerDispatcher => NmDispatcher { cluster, server }.render(),
        ServerArtifact::SuppressionUnit { load, unload } => SuppressionUnit { cluster, server, load, unload }.render(),
        ServerArtifact::VipsUnit { loader } => {
            VipsUnit { cluster, server, loader, device: &server.interface.systemd_device_unit() }.render()
        }
        ServerArtifact::GuardService => GuardService { cluster, server }.render(),
        ServerArtifact::GuardTimer => GuardTimer { cluster, server }.render(),
    }
}
