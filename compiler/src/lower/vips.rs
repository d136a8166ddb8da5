//! Pass "vips": which VIPs each host holds and the alias label of each — a real server
//! those of its services, a director all of them.

use super::hosts::Lowered;
use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::model::{AliasLabel, Director, Interface, Name, RealServer, ServedVip, Service};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

/// VIP → (pointer to the first service VIP naming it, service names), sorted by address.
type VipServices = BTreeMap<Ipv4Addr, (String, Vec<Name>)>;

/// Two VIPs with the same alias number would share a label on every host holding both,
/// and the directors hold them all: reported once per pair, at the second VIP.
pub fn alias_numbers(found: &mut Vec<Diagnostic>, services: &Lowered<Service>) {
    let mut numbers: HashMap<u32, Ipv4Addr> = HashMap::new();
    for (service, path) in services {
        let Some(service) = service else { continue };
        let vip = service.vip;
        let number = AliasLabel::number(vip);
        match numbers.get(&number) {
            Some(other) if *other != vip => found.push(
                Diagnostic::new(
                    Code::AliasCollision,
                    pointer(path, "vip"),
                    format!(
                        "VIPs {other} and {vip} would share alias number {number}, and every director carries both"
                    ),
                )
                .hint("the alias number comes from the VIP's last two octets; choose VIPs that differ there"),
            ),
            Some(_) => {}
            None => {
                numbers.insert(number, vip);
            }
        }
    }
}

/// Gives each real server the VIPs of its services, reports servers without a service
/// (`named`: the names some service lists, declared or not), and sorts servers by name.
pub fn attach_to_real_servers(
    found: &mut Vec<Diagnostic>,
    services: &Lowered<Service>,
    servers: Lowered<RealServer>,
    named: &HashSet<&str>,
) -> Vec<RealServer> {
    let mut served: HashMap<&str, VipServices> = HashMap::new();
    for (service, path) in services {
        let Some(service) = service else { continue };
        for member in &service.members {
            served
                .entry(member.server.as_str())
                .or_default()
                .entry(service.vip)
                .or_insert_with(|| (pointer(path, "vip"), Vec::new()))
                .1
                .push(service.name.clone());
        }
    }
    let mut lowered = Vec::new();
    for (server, path) in servers {
        let Some(mut server) = server else { continue };
        let vips = served.remove(server.name.as_str()).unwrap_or_default();
        if vips.is_empty() && !named.contains(server.name.as_str()) {
            found.push(
                Diagnostic::new(
                    Code::UnusedRealServer,
                    pointer(&path, "name"),
                    format!("real server {} serves no service", server.name.as_str()),
                )
                .hint("add it to a service's \"real_servers\", or remove it"),
            );
        }
        server.vips = label(found, &format!("real server {}", server.name), &server.interface, vips);
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
) -> Option<Vec<Director>> {
    let mut all = VipServices::new();
    for (service, path) in services {
        let Some(service) = service else { continue };
        all.entry(service.vip).or_insert_with(|| (pointer(path, "vip"), Vec::new())).1.push(service.name.clone());
    }
    let labelled: Vec<Option<Director>> = directors
        .into_iter()
        .map(|(director, _)| {
            director.map(|mut d| {
                d.vips = label(found, &format!("director {}", d.name), &d.interface, all.clone());
                d
            })
        })
        .collect();
    labelled.into_iter().collect()
}

/// Labels a host's VIPs `<interface>:<n>`, reporting labels that are too long.
fn label(found: &mut Vec<Diagnostic>, who: &str, interface: &Interface, vips: VipServices) -> Vec<ServedVip> {
    let mut labelled = Vec::new();
    for (vip, (vip_path, names)) in vips {
        match AliasLabel::new(interface, vip) {
            Ok(label) => labelled.push(ServedVip { address: vip, label, services: names }),
            Err(label) => found.push(
                Diagnostic::new(
                    Code::AliasLabelTooLong,
                    vip_path,
                    format!("{who} would label VIP {vip} \"{label}\", {} characters; the kernel allows 15", label.len()),
                )
                .hint(format!("the label is <interface>:<1000 x third octet + fourth octet>; use a shorter interface name than \"{interface}\" or another VIP")),
            ),
        }
    }
    labelled
}
