//! Pass "services": each virtual service — its VIP checked against the hosts' address
//! book, protocol, port, scheduler, persistence and members.

use super::address::{parse_vip, special_purpose};
use super::hosts::{AddressBook, Lowered};
use super::quoted;
use super::values::{self, enum_error, Declared};
use crate::codes::Code;
use crate::diag::{did_you_mean, pointer, Diagnostic};
use crate::model::{limits, Keyword, Member, Name, Protocol, RealServer, Scheduler, Service};
use crate::raw;
use rustc_hash::FxHashMap as HashMap;
use std::net::Ipv4Addr;

/// Lowers the services; `declared_servers` and `lowered_servers` are the manifest's real
/// servers, raw and lowered, in the same order.
pub fn services(
    found: &mut Vec<Diagnostic>,
    services: &[raw::Service],
    declared_servers: &[raw::RealServer],
    lowered_servers: &Lowered<RealServer>,
    book: &AddressBook,
) -> Lowered<Service> {
    // Each declared name, with its server's address once lowered: a member carries it, so
    // that a director's files need no lookup per membership.
    let known_servers: HashMap<&str, Option<Ipv4Addr>> = declared_servers
        .iter()
        .zip(lowered_servers)
        .map(|(raw, (lowered, _))| (raw.name.as_str(), lowered.as_ref().map(|s| s.address.addr())))
        .collect();
    let mut declared = Declared::default();
    let mut triples: HashMap<(Ipv4Addr, Protocol, u16), String> = HashMap::default();
    let mut lowered = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let path = pointer("/services", i);
        let who = format!("service {}", s.name);
        let name = values::name(found, &s.name, &pointer(&path, "name"), "service");
        values::unique(found, &mut declared, &s.name, pointer(&path, "name"), "service");
        let vip = vip(found, book, &s.vip, &pointer(&path, "vip"), &who);
        let protocol = keyword(found, s.protocol.as_deref(), Protocol::Tcp, &path, "protocol", Code::UnknownProtocol);
        let port = u16::try_from(s.port).ok();
        if port.is_none() {
            found.push(
                Diagnostic::new(
                    Code::PortOutOfRange,
                    pointer(&path, "port"),
                    format!("{who} has port {}, outside 0-65535", s.port),
                )
                .hint("write the service's port; 0 means every port (with persistence)"),
            );
        }
        let scheduler =
            keyword(found, s.scheduler.as_deref(), Scheduler::Wlc, &path, "scheduler", Code::UnknownScheduler);
        let persistence = s.persistence.unwrap_or(0);
        let persistence = if (0..=limits::PERSISTENCE_MAX).contains(&persistence) {
            Some(persistence as u32)
        } else {
            found.push(
                Diagnostic::new(
                    Code::PersistenceOutOfRange,
                    pointer(&path, "persistence"),
                    format!("{who} has persistence {persistence}, outside 0-{} seconds", limits::PERSISTENCE_MAX),
                )
                .hint("persistence is in seconds; 300 is a common choice, 0 turns it off"),
            );
            None
        };
        if port == Some(0) && persistence == Some(0) {
            found.push(
                Diagnostic::new(
                    Code::PortZeroNeedsPersistence,
                    pointer(&path, "port"),
                    format!("{who} forwards every port (port 0) but is not persistent"),
                )
                .hint("add \"persistence\": 300 (seconds), or give the service its port"),
            );
        }
        if let (Some(vip), Some(protocol), Some(port)) = (vip, protocol, port) {
            let vip_path = pointer(&path, "vip");
            if let Some(first) = triples.get(&(vip, protocol, port)) {
                let hint = format!("the first is at {first}; merge them or change the port");
                found.push(
                    Diagnostic::new(Code::DuplicateService, vip_path, format!("{who} repeats {protocol} {vip}:{port}"))
                        .hint(hint),
                );
            } else {
                triples.insert((vip, protocol, port), vip_path);
            }
        }
        let members = members(found, &s.real_servers, &path, &who, &known_servers);
        if let (Some(members), Some(vip), Some(port)) = (&members, vip, port) {
            let target = if port == 0 { format!("{vip}") } else { format!("{vip}:{port}") };
            if members.is_empty() {
                // keepalived ignores a virtual server without real servers, so no director
                // file programs it: the VIP answers, the port refuses.
                found.push(
                    Diagnostic::new(
                        Code::EmptyService,
                        pointer(&path, "real_servers"),
                        format!("{who} has no real servers: connections to {target} are refused"),
                    )
                    .hint("add a real server; the directors' files leave the service out until it has one"),
                );
            } else if members.iter().all(|m| m.weight == 0) {
                found.push(
                    Diagnostic::new(
                        Code::DrainedService,
                        pointer(&path, "real_servers"),
                        format!("every real server of {who} has weight 0: IPVS sends new connections to {target} nowhere"),
                    )
                    .hint("give at least one real server a weight above 0, unless the service is being drained on purpose"),
                );
            }
        }
        let service = match (name, vip, protocol, port, scheduler, persistence, members) {
            (Some(name), Some(vip), Some(protocol), Some(port), Some(scheduler), Some(persistence), Some(members)) => {
                Some(Service { name, vip, protocol, port, scheduler, persistence, members })
            }
            _ => None,
        };
        lowered.push((service, path));
    }
    lowered
}

/// A keyword key of a service (`protocol`, `scheduler`), or its default when absent.
fn keyword<K: Keyword>(
    found: &mut Vec<Diagnostic>,
    text: Option<&str>,
    default: K,
    path: &str,
    key: &str,
    code: Code,
) -> Option<K> {
    let Some(text) = text else { return Some(default) };
    let parsed = K::parse(text);
    if parsed.is_none() {
        found.push(enum_error(code, &pointer(path, key), key, text, &K::names()));
    }
    parsed
}

fn members(
    found: &mut Vec<Diagnostic>,
    members: &[raw::Member],
    path: &str,
    who: &str,
    known: &HashMap<&str, Option<Ipv4Addr>>,
) -> Option<Vec<Member>> {
    // Member → its position; paths are built only for a diagnostic (this loop runs once
    // per membership, hundreds of thousands of times in a large cluster).
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity_and_hasher(members.len(), Default::default());
    let mut lowered = Some(Vec::with_capacity(members.len()));
    let member_path = |j: usize| pointer(&pointer(path, "real_servers"), j);
    let server_path = |j: usize| pointer(&member_path(j), "server");
    for (j, m) in members.iter().enumerate() {
        // A declared server that did not lower has its own error: the member is dropped.
        let server = if let Some(address) = known.get(m.server.as_str()) {
            Name::parse(&m.server).zip(*address)
        } else {
            let diagnostic = Diagnostic::new(
                Code::UnknownServer,
                server_path(j),
                format!("{who} names real server {}, which is not declared", quoted(&m.server)),
            );
            found.push(match did_you_mean(&m.server, known.keys().copied()) {
                Some(close) => diagnostic.hint(format!("did you mean \"{close}\"?")),
                None => diagnostic.hint("declare it in the top-level \"real_servers\" list"),
            });
            None
        };
        if let Some(first) = seen.get(m.server.as_str()) {
            let hint = format!("already listed at {}; list each real server once per service", server_path(*first));
            found.push(
                Diagnostic::new(
                    Code::DuplicateMember,
                    server_path(j),
                    format!("{who} lists real server {} twice", m.server),
                )
                .hint(hint),
            );
        } else {
            seen.insert(&m.server, j);
        }
        let weight = u16::try_from(m.weight.unwrap_or(1)).ok();
        if weight.is_none() {
            found.push(
                Diagnostic::new(
                    Code::WeightOutOfRange,
                    pointer(&member_path(j), "weight"),
                    format!("{who} gives real server {} weight {}, outside 0-65535", m.server, m.weight.unwrap_or(1)),
                )
                .hint("weights are 0-65535; 0 quiesces the server"),
            );
        }
        lowered = match (lowered, server, weight) {
            (Some(mut list), Some((server, address)), Some(weight)) => {
                list.push(Member { server, address, weight });
                Some(list)
            }
            _ => None,
        };
    }
    lowered
}

/// A service's VIP: a bare unicast address no host owns and no subnet starts or ends with.
fn vip(found: &mut Vec<Diagnostic>, book: &AddressBook, text: &str, path: &str, who: &str) -> Option<Ipv4Addr> {
    let vip = match parse_vip(text) {
        Ok(vip) => vip,
        Err(error) => {
            found.push(error.at(path, who, text));
            return None;
        }
    };
    let problem = if let Some(kind) = special_purpose(vip) {
        Diagnostic::new(Code::VipSpecial, path, format!("{who} has the {kind} address {vip} as its VIP"))
            .hint("a VIP is a unicast address clients can reach")
    } else if let Some((at, owner)) = book.hosts.get(&vip) {
        Diagnostic::new(Code::VipClash, path, format!("{who} uses {vip} as its VIP, but that is {owner}'s own address"))
            .hint(format!("{owner} has it at {at}; a VIP must be an address no host owns"))
    } else if let Some(owner) = book.subnet_edges.get(&vip) {
        Diagnostic::new(
            Code::VipClash,
            path,
            format!("{who} uses {vip} as its VIP, but that is the network or broadcast address of {owner}'s subnet"),
        )
        .hint("choose a host address for the VIP")
    } else {
        return Some(vip);
    };
    // A rejected VIP takes no part in later checks, which would only repeat the problem.
    found.push(problem);
    None
}
