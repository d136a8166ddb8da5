//! Emit: the text of each planned artifact, rendered from its template in `templates/`.
//! A real server's suppression artifacts and check come from its dialect's module.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::BlockMarkers;
use crate::dialect::{dialect, ServerView};
use crate::digest::sha256_hex;
use crate::model::{Cluster, Director, Failover, Protocol, RealServer, ServedVip};
use crate::plan::{DirectorArtifact, HostPlan, ServerArtifact};
use askama::Template;
use std::net::Ipv4Addr;

#[derive(Template)]
#[template(path = "ifcfg-alias.ifcfg")]
struct IfcfgAlias<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    vip: &'a ServedVip,
}

#[derive(Template)]
#[template(path = "rc.local.sh")]
struct RcLocal<'a> {
    markers: &'a BlockMarkers,
    server: &'a RealServer,
    /// The dialect's `lvsdr_protected` function.
    check: &'a str,
}

/// A virtual service as a director's configuration names it.
struct VirtualService<'a> {
    name: &'a str,
    vip: Ipv4Addr,
    /// The VIP's alias label on this director.
    label: &'a str,
    protocol: Protocol,
    port: u16,
    scheduler: &'a str,
    persistence: u32,
    /// Sorted by address, as `ipvsadm-save` lists them.
    real_servers: Vec<Destination<'a>>,
}

struct Destination<'a> {
    name: &'a str,
    address: Ipv4Addr,
    weight: u16,
}

impl VirtualService<'_> {
    /// ipvsadm's protocol flag.
    fn flag(&self) -> &'static str {
        match self.protocol {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
        }
    }

    /// Piranha's nanny: an HTTP probe on port 80 (its GUI's default), a plain connect elsewhere.
    fn http_probe(&self) -> bool {
        self.protocol == Protocol::Tcp && self.port == 80
    }
}

/// The cluster's services as `director` holds them: VIPs labelled on its interface,
/// real servers resolved to their addresses. In manifest order.
fn virtual_services<'a>(cluster: &'a Cluster, director: &'a Director) -> Vec<VirtualService<'a>> {
    cluster
        .services
        .iter()
        .map(|service| {
            let label = director
                .vips
                .iter()
                .find(|v| v.address == service.vip)
                .map(|v| v.label.as_str())
                .expect("the validator gives every director every VIP");
            let mut real_servers: Vec<Destination<'a>> = service
                .members
                .iter()
                .map(|member| {
                    let server = cluster
                        .real_servers
                        .binary_search_by(|s| s.name.cmp(&member.server))
                        .map(|i| &cluster.real_servers[i])
                        .expect("the validator resolves every member to a declared real server");
                    Destination { name: server.name.as_str(), address: server.address.addr(), weight: member.weight }
                })
                .collect();
            real_servers.sort_by_key(|d| d.address);
            VirtualService {
                name: service.name.as_str(),
                vip: service.vip,
                label,
                protocol: service.protocol,
                port: service.port,
                scheduler: service.scheduler.as_str(),
                persistence: service.persistence,
                real_servers,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ipvsadm.rules")]
struct Ipvsadm<'a> {
    services: Vec<VirtualService<'a>>,
}

#[derive(Template)]
#[template(path = "lvs.cf")]
struct PiranhaLvsCf<'a> {
    serial_no: u32,
    primary: &'a Director,
    backup: Option<&'a Director>,
    services: Vec<VirtualService<'a>>,
}

#[derive(Template)]
#[template(path = "keepalived.conf")]
struct Keepalived<'a> {
    cluster: &'a str,
    director: &'a Director,
    /// MASTER for the primary, BACKUP for the others.
    state: &'static str,
    router_id: u8,
    services: Vec<VirtualService<'a>>,
}

/// Renders the artifact at `position` of a host's plan. Every artifact ends with exactly
/// one line feed.
pub fn emit(cluster: &Cluster, plan: &HostPlan<'_>, position: usize) -> String {
    let rendered = match plan {
        HostPlan::RealServer(server, artifacts) => emit_server(cluster, server, &artifacts[position].artifact),
        HostPlan::Director(director, artifacts) => emit_director(cluster, director, &artifacts[position].artifact),
    };
    // Rendering plain text into a String cannot fail: the templates call no fallible filter.
    let mut text = rendered.expect("rendering a validated model into a String cannot fail");
    // askama drops each template's final newline; files end with exactly one.
    text.push('\n');
    text
}

fn emit_server(cluster: &Cluster, server: &RealServer, artifact: &ServerArtifact<'_>) -> askama::Result<String> {
    let markers = BlockMarkers::of(cluster.name.as_str());
    let view = ServerView { cluster: cluster.name.as_str(), markers: &markers, server, real_ip: server.address.addr() };
    match artifact {
        ServerArtifact::Suppression(spec) => (spec.render)(&view),
        ServerArtifact::IfcfgAlias(vip) => IfcfgAlias { cluster: view.cluster, server, vip }.render(),
        ServerArtifact::RcLocal => {
            let check = dialect(server.suppression).render_check(&view)?;
            RcLocal { markers: &markers, server, check: &check }.render()
        }
    }
}

fn emit_director(cluster: &Cluster, director: &Director, artifact: &DirectorArtifact) -> askama::Result<String> {
    let services = virtual_services(cluster, director);
    match artifact {
        DirectorArtifact::Ipvsadm => {
            let mut services = services;
            // ipvsadm-save lists services by protocol number (TCP before UDP), address, port.
            services.sort_by_key(|s| (s.protocol != Protocol::Tcp, s.vip, s.port));
            Ipvsadm { services }.render()
        }
        DirectorArtifact::FailoverConfig(Failover::Piranha) => {
            let mut lvs_cf = PiranhaLvsCf {
                serial_no: 0,
                primary: &cluster.directors[0],
                backup: cluster.directors.get(1),
                services,
            };
            // Piranha's GUI bumps serial_no on every save, so a revision can be told from
            // the last; derive it from the content: it changes exactly when the file does.
            let body = lvs_cf.render()?;
            let digest = sha256_hex(&body);
            lvs_cf.serial_no = u32::from_str_radix(&digest[..8], 16).expect("hex digits") % 1_000_000_000;
            lvs_cf.render()
        }
        DirectorArtifact::FailoverConfig(Failover::Keepalived) => Keepalived {
            cluster: cluster.name.as_str(),
            director,
            state: if std::ptr::eq(director, &cluster.directors[0]) { "MASTER" } else { "BACKUP" },
            router_id: cluster.vrrp_router_id,
            services,
        }
        .render(),
    }
}
