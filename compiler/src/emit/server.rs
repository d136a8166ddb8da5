//! A real server's artifacts: its dialect's, the vips script with the dialect's check,
//! lvsdr's systemd units, the NetworkManager dispatcher, ifcfg alias files and the
//! ifup-local and rc.local blocks.

use crate::boot;
use crate::contract::{BlockMarkers, Step};
use crate::dialect::{dialect, ServerView};
use crate::model::{AliasLabel, Cluster, NetworkStack, RealServer, ServedVip};
use crate::plan::ServerArtifact;
use crate::platform::InitSystem;
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
    /// The dialect's part of the script: listing, check, load, unload, events.
    runtime: &'a str,
    network: NetworkView,
    /// The systemd unit that loads the rules: a repair loads them only while it is active.
    rules_unit: Option<String>,
}

/// What the vips script must know of the network stack before it adds a VIP.
enum NetworkView {
    /// NetworkManager owns the interface: wait until it has activated it.
    NetworkManager,
    /// The network service owns it on a release where NetworkManager may run too:
    /// refuse while NetworkManager manages the interface.
    InitscriptsBesideNetworkManager,
    /// The network service owns it and NetworkManager never manages it.
    Initscripts,
}

impl NetworkView {
    /// The name the template tests (each variant has its branch in `templates/vips.sh`).
    fn name(&self) -> &'static str {
        match self {
            NetworkView::NetworkManager => "NetworkManager",
            NetworkView::InitscriptsBesideNetworkManager => "InitscriptsBesideNetworkManager",
            NetworkView::Initscripts => "Initscripts",
        }
    }

    fn of(server: &RealServer) -> NetworkView {
        match server.network_stack {
            NetworkStack::NetworkManager => NetworkView::NetworkManager,
            NetworkStack::Initscripts
                if server.platform.profile().network_stacks.contains(&NetworkStack::NetworkManager) =>
            {
                NetworkView::InitscriptsBesideNetworkManager
            }
            NetworkStack::Initscripts => NetworkView::Initscripts,
        }
    }
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
    /// The unit that loads the rules.
    loader: &'a str,
}

pub fn emit_server(cluster: &Cluster, server: &RealServer, artifact: &ServerArtifact<'_>) -> askama::Result<String> {
    let markers = BlockMarkers::of(cluster.name.as_str());
    let view = ServerView {
        cluster: cluster.name.as_str(),
        server,
        real_ip: server.address.addr(),
        real_ip6: server.address6.map(|net| net.addr()),
    };
    let cluster = view.cluster;
    let dialect = dialect(server.suppression);
    match artifact {
        ServerArtifact::Suppression(spec) => (spec.render)(&view),
        ServerArtifact::VipsScript => {
            let runtime = dialect.render_runtime(&view)?;
            let rules_unit = match server.platform.profile().init {
                InitSystem::Systemd => Some(boot::suppression_unit(&dialect.loader())),
                InitSystem::SysV => None,
            };
            Vips { cluster, server, runtime: &runtime, network: NetworkView::of(server), rules_unit }.render()
        }
        ServerArtifact::IfcfgAlias(vip, label) => IfcfgAlias { cluster, server, vip, label }.render(),
        ServerArtifact::RcLocal { preload } => RcLocal { markers: &markers, server, preload }.render(),
        ServerArtifact::IfupLocal => IfupLocal { markers: &markers, server }.render(),
        ServerArtifact::NetworkManagerDispatcher => NmDispatcher { cluster, server }.render(),
        ServerArtifact::SuppressionUnit => SuppressionUnit { cluster, server }.render(),
        ServerArtifact::VipsUnit { loader } => {
            VipsUnit { cluster, server, loader, device: &server.interface.systemd_device_unit() }.render()
        }
        ServerArtifact::GuardService { loader } => GuardService { cluster, server, loader }.render(),
    }
}
