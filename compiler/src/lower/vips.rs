//! Pass "vips": which VIPs each host holds — a real server those of its services, a
//! director all of them — and, where the host's configuration names VIPs by label, the
//! alias label of each.

use super::hosts::Lowered;
use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::model::{
    AliasLabel, Director, Failover, Interface, NetworkStack, RealServer, ServedVip, Service, ServiceNames,
};
use rustc_hash::FxHashMap as HashMap;
use std::net::Ipv4Addr;

/// A host's VIPs, sorted by address: each with the pointer to the first service naming it
/// (built into a diagnostic's pointer only when needed) and the names of its services.
type VipServices<'p> = Vec<(Ipv4Addr, &'p str, ServiceNames)>;

/// Groups `memberships` (VIP, index in `services`) into VIPs, services in manifest order.
fn group<'p>(services: &'p Lowered<Service>, mut memberships: Vec<(Ipv4Addr, u32)>) -> VipServices<'p> {
    memberships.sort_unstable();
    let mut vips: VipServices<'p> = Vec::new();
    for (vip, index) in memberships {
        let (Some(service), path) = &services[index as usize] else { continue };
        match vips.last_mut() {
            Some((last, _, names)) if *last == vip => names.push(service.name.clone()),
            // Most VIPs serve a host through one service: room for one name.
            _ => vips.push((vip, path.as_str(), smallvec::smallvec![service.name.clone()])),
        }
    }
    vips
}

/// Gives each real server the VIPs of its services, reports servers without a service
/// (`listed`: per server, in manifest order, whether some service lists its name), and
/// sorts servers by name.
pub fn attach_to_real_servers(
    found: &mut Vec<Diagnostic>,
    services: &Lowered<Service>,
    servers: Lowered<RealServer>,
    listed: &[bool],
) -> Vec<RealServer> {
    // Server → its memberships as (VIP, service index): eight bytes each, grouped per
    // server below (a cluster can have hundreds of thousands of memberships).
    let mut served: HashMap<&str, Vec<(Ipv4Addr, u32)>> = HashMap::default();
    for (index, (service, _)) in services.iter().enumerate() {
        let Some(service) = service else { continue };
        let index = u32::try_from(index).expect("fewer than 2^32 services fit in a manifest");
        for member in &service.members {
            served.entry(member.server.as_str()).or_default().push((service.vip, index));
        }
    }
    let mut lowered = Vec::new();
    for ((server, path), listed) in servers.into_iter().zip(listed) {
        let Some(mut server) = server else { continue };
        let vips = group(services, served.remove(server.name.as_str()).unwrap_or_default());
        if vips.is_empty() && !listed {
            found.push(
                Diagnostic::new(
                    Code::UnusedRealServer,
                    pointer(&path, "name"),
                    format!("real server {} serves no service", server.name.as_str()),
                )
                .hint("add it to a service's \"real_servers\", or remove it"),
            );
        }
        // ifcfg alias files (the network service's) name each VIP by its label.
        let labelled = server.network_stack == NetworkStack::Initscripts;
        server.vips = label(found, &format!("real server {}", server.name), &server.interface, vips, labelled);
        lowered.push(server);
    }
    lowered.sort_by(|a, b| a.name.cmp(&b.name));
    lowered
}

/// Gives each director every VIP of the cluster, labelled on its interface; `None` when
/// any director failed to lower (every one is labelled, and its errors reported, first).
pub fn attach_to_directors(
    found: &mut Vec<Diagnostic>,
    services: &Lowered<Service>,
    directors: Lowered<Director>,
    failover: Option<Failover>,
) -> Option<Vec<Director>> {
    // lvs.cf names each VIP `<vip> <dev>:<n>`; keepalived needs no label.
    let labelled = match failover {
        Some(Failover::Piranha) => true,
        Some(Failover::Keepalived) | None => false,
    };
    let mut every = Vec::new();
    for (index, (service, _)) in services.iter().enumerate() {
        let Some(service) = service else { continue };
        every.push((service.vip, u32::try_from(index).expect("fewer than 2^32 services fit in a manifest")));
    }
    let all = group(services, every);
    let labelled: Vec<Option<Director>> = directors
        .into_iter()
        .map(|(director, _)| {
            director.map(|mut d| {
                d.vips = label(found, &format!("director {}", d.name), &d.interface, all.clone(), labelled);
                d
            })
        })
        .collect();
    labelled.into_iter().collect()
}

/// A host's VIPs, labelled `<interface>:<n>` when `labelled`: reports labels over the
/// kernel's 15 characters and two VIPs of the host that would share a label.
fn label(
    found: &mut Vec<Diagnostic>,
    who: &str,
    interface: &Interface,
    vips: VipServices,
    labelled: bool,
) -> Vec<ServedVip> {
    let mut numbers: HashMap<u32, Ipv4Addr> = HashMap::default();
    let mut served = Vec::with_capacity(vips.len());
    for (vip, service_path, names) in vips {
        if !labelled {
            served.push(ServedVip { address: vip, label: None, services: names });
            continue;
        }
        let number = AliasLabel::number(vip);
        if let Some(other) = numbers.insert(number, vip) {
            found.push(
                Diagnostic::new(
                    Code::AliasCollision,
                    pointer(service_path, "vip"),
                    format!("{who} would give VIPs {other} and {vip} the same alias label {interface}:{number}"),
                )
                .hint("the alias number comes from the VIP's last two octets (1000 x third + fourth): choose VIPs that differ there, or (real servers on el7+) use NetworkManager, which needs no labels"),
            );
            continue;
        }
        match AliasLabel::new(interface, vip) {
            Ok(label) => served.push(ServedVip { address: vip, label: Some(label), services: names }),
            Err(label) => found.push(
                Diagnostic::new(
                    Code::AliasLabelTooLong,
                    pointer(service_path, "vip"),
                    format!("{who} would label VIP {vip} \"{label}\", {} characters; the kernel allows 15", label.len()),
                )
                .hint(format!("the label is <interface>:<1000 x third octet + fourth octet>; use a shorter interface name than \"{interface}\" or another VIP, or (real servers on el7+) NetworkManager, which needs no labels")),
            ),
        }
    }
    served
}
