//! A director's artifacts: Piranha's lvs.cf or keepalived.conf, and the ipvsadm table,
//! all rendered from one list of `VirtualService` views so that they agree.

use crate::digest::Sha256Stream;
use crate::model::{Cluster, Director, Failover, Protocol};
use crate::plan::DirectorArtifact;
use askama::Template;
use std::net::Ipv4Addr;

/// A virtual service as a director's configuration names it.
struct VirtualService<'a> {
    name: &'a str,
    vip: Ipv4Addr,
    /// The VIP's alias label on this director (Piranha's directors have labels).
    label: Option<&'a str>,
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
/// real servers resolved to their addresses. In manifest order, services without real
/// servers left out.
fn virtual_services<'a>(cluster: &'a Cluster, director: &'a Director) -> Vec<VirtualService<'a>> {
    cluster
        .services
        .iter()
        // keepalived ignores a virtual server without real servers; every director file
        // leaves it out, so that the three agree (W0003 tells the user).
        .filter(|service| !service.members.is_empty())
        .map(|service| {
            let label = director
                .vips
                .iter()
                .find(|v| v.address == service.vip)
                .expect("the validator gives every director every VIP")
                .label
                .as_ref()
                .map(|l| l.as_str());
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

/// Writes `director`'s `artifact` into `out` as it renders.
pub fn emit_director<W: std::fmt::Write>(
    cluster: &Cluster,
    director: &Director,
    artifact: &DirectorArtifact,
    out: &mut W,
) -> askama::Result<()> {
    let services = virtual_services(cluster, director);
    match artifact {
        DirectorArtifact::Ipvsadm => {
            let mut services = services;
            // ipvsadm-save lists services by protocol number (TCP before UDP), address, port.
            services.sort_by_key(|s| (s.protocol != Protocol::Tcp, s.vip, s.port));
            Ipvsadm { services }.render_into(out)
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
            // The first rendering is only hashed, never held.
            let mut body = HashingWriter::default();
            lvs_cf.render_into(&mut body)?;
            let digest = body.0.finish();
            lvs_cf.serial_no = u32::from_str_radix(&digest[..8], 16).expect("hex digits") % 1_000_000_000;
            lvs_cf.render_into(out)
        }
        DirectorArtifact::FailoverConfig(Failover::Keepalived) => Keepalived {
            cluster: cluster.name.as_str(),
            director,
            state: if std::ptr::eq(director, &cluster.directors[0]) { "MASTER" } else { "BACKUP" },
            router_id: cluster.vrrp_router_id,
            services,
        }
        .render_into(out),
    }
}

/// Text written into it is hashed, not kept.
#[derive(Default)]
struct HashingWriter(Sha256Stream);

impl std::fmt::Write for HashingWriter {
    fn write_str(&mut self, piece: &str) -> std::fmt::Result {
        self.0.update(piece.as_bytes());
        Ok(())
    }
}
