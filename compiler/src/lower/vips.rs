//! Pass "vips": which VIPs each host holds — a real server those of its services, a
//! director all of them — and, where the host's configuration names VIPs by label, the
//! alias label of each.

use super::entry::{Entry, What, Who};
use super::hosts::Lowered;
use super::ids::{Listed, Membership, ServerId, ServiceId};
use crate::codes::Code;
use crate::contract::Role;
use crate::diag::Diagnostic;
use crate::model::{
    AliasLabel, Director, Failover, Interface, NetworkStack, RealServer, ServedVip, Service, ServiceNames,
};
use rustc_hash::FxHashMap as HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// A host's VIPs, sorted by address: each with the first service naming it (where a
/// diagnostic points) and the names of its services.
type VipServices = Vec<(IpAddr, Entry, ServiceNames)>;

/// Groups a host's (VIP, service) pairs into VIPs, services in manifest order.
fn group(services: &Lowered<Service>, memberships: &mut [(IpAddr, ServiceId)]) -> VipServices {
    memberships.sort_unstable();
    let mut vips: VipServices = Vec::with_capacity(memberships.len());
    for &mut (vip, service) in memberships {
        let (Some(service), entry) = &services[service.index()] else { continue };
        match vips.last_mut() {
            Some((last, _, names)) if *last == vip => names.push(service.name.clone()),
            // Most VIPs serve a host through one service: room for one name.
            _ => vips.push((vip, *entry, smallvec::smallvec![service.name.clone()])),
        }
    }
    vips
}

/// Gives each real server the VIPs of its services (`memberships`, as the services pass
/// found them), reports servers without a service that no service lists (`listed`), and
/// sorts servers by name.
pub fn attach_to_real_servers(
    found: &mut Vec<Diagnostic>,
    services: &Lowered<Service>,
    servers: Lowered<RealServer>,
    memberships: Vec<Membership>,
    listed: &Listed,
) -> Vec<RealServer> {
    // The memberships by server, counted and then placed (a counting sort): server i's
    // are `by_server[starts[i]..starts[i + 1]]`. No map and no list per server: a large
    // cluster has hundreds of thousands of memberships.
    let mut starts = vec![0u32; servers.len() + 1];
    for membership in &memberships {
        starts[membership.holder.index() + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut by_server = vec![(IpAddr::V4(Ipv4Addr::UNSPECIFIED), ServiceId::at(0)); memberships.len()];
    let mut next = starts.clone();
    for Membership { holder, vip, service } in memberships {
        let slot = &mut next[holder.index()];
        by_server[*slot as usize] = (vip, service);
        *slot += 1;
    }
    drop(next);
    let mut numbers = HashMap::default();
    let mut lowered = Vec::with_capacity(servers.len());
    for (index, (server, entry)) in servers.into_iter().enumerate() {
        let Some(mut server) = server else { continue };
        let vips = group(services, &mut by_server[starts[index] as usize..starts[index + 1] as usize]);
        let who = Who::new(What::Host(Role::RealServer), server.name.as_smol_str());
        if vips.is_empty() && !listed.contains(ServerId::at(index)) {
            found.push(
                Diagnostic::new(Code::UnusedRealServer, entry.key("name"), format!("{who} serves no service"))
                    .hint("add it to a service's \"real_servers\", or remove it"),
            );
        }
        // ifcfg alias files (the network service's) name each VIP by its label.
        let labelled = server.network_stack == NetworkStack::Initscripts;
        server.vips = label(found, &who, &server.vip_device, vips, labelled, &mut numbers);
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
        every.push((service.vip, ServiceId::at(index)));
    }
    let all = group(services, &mut every);
    let mut numbers = HashMap::default();
    let labelled: Vec<Option<Director>> = directors
        .into_iter()
        .map(|(director, _)| {
            director.map(|mut d| {
                let who = Who::new(What::Host(Role::Director), d.name.as_smol_str());
                d.vips = label(found, &who, &d.interface, all.clone(), labelled, &mut numbers);
                d
            })
        })
        .collect();
    labelled.into_iter().collect()
}

/// A host's VIPs, the IPv4 ones labelled `<interface>:<n>` when `labelled`: reports labels over the
/// kernel's 15 characters and two VIPs of the host that would share a label. `numbers`
/// is room for the labels' numbers, reused from host to host.
fn label(
    found: &mut Vec<Diagnostic>,
    who: &Who,
    interface: &Interface,
    vips: VipServices,
    labelled: bool,
    numbers: &mut HashMap<u32, Ipv4Addr>,
) -> Vec<ServedVip> {
    numbers.clear();
    let mut served = Vec::with_capacity(vips.len());
    for (vip, service, names) in vips {
        // ifcfg alias files and lvs.cf hold IPv4 only: the vips script adds an IPv6 VIP.
        let vip = match vip {
            IpAddr::V4(vip) if labelled => vip,
            IpAddr::V4(_) | IpAddr::V6(_) => {
                served.push(ServedVip { address: vip, label: None, services: names });
                continue;
            }
        };
        let number = AliasLabel::number(vip);
        if let Some(other) = numbers.insert(number, vip) {
            found.push(
                Diagnostic::new(
                    Code::AliasCollision,
                    service.key("vip"),
                    format!("{who} would give VIPs {other} and {vip} the same alias label {interface}:{number}"),
                )
                .hint("the alias number comes from the VIP's last two octets (1000 x third + fourth): choose VIPs that differ there, or (real servers on {on:networkmanager}) use NetworkManager, which needs no labels"),
            );
            continue;
        }
        match AliasLabel::new(interface, vip) {
            Ok(label) => served.push(ServedVip { address: IpAddr::V4(vip), label: Some(label), services: names }),
            Err(label) => found.push(
                Diagnostic::new(
                    Code::AliasLabelTooLong,
                    service.key("vip"),
                    format!("{who} would label VIP {vip} \"{label}\", {} characters; the kernel allows 15", label.len()),
                )
                .hint(format!("the label is <interface>:<1000 x third octet + fourth octet>; use a shorter interface name than \"{interface}\" or another VIP, or (real servers on {{on:networkmanager}}) NetworkManager, which needs no labels")),
            ),
        }
    }
    served
}
