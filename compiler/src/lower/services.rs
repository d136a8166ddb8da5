//! Pass "services": each virtual service — its VIP checked against the hosts' address
//! book, protocol, port or ports (`ports`), scheduler, persistence and members.

use super::address::{parse_vip, special};
use super::checks::{self, CheckedService};
use super::entry::{At, Entry, What, Who};
use super::hosts::{AddressBook, Lowered};
use super::ids::{Listed, Membership, ServerId, ServiceId};
use super::ports;
use super::quoted;
use super::values::{self, enum_error, Declared};
use crate::codes::Code;
use crate::contract::Role;
use crate::diag::{did_you_mean, pointer, Diagnostic};
use crate::dialect::{dialect, Ipv6Lock};
use crate::model::{
    limits, Keyword, Member, Name, Platform, Ports, Protocol, RealServer, Scheduler, Service, SorryServer, Suppression,
};
use crate::raw;
use rustc_hash::FxHashMap as HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the pass produces.
pub struct Services {
    pub services: Lowered<Service>,
    /// Each real server holding the VIP of a service that lowered.
    pub memberships: Vec<Membership>,
    /// Which declared real servers some service names.
    pub listed: Listed,
    /// Whether any service has a valid IPv6 VIP (lowered or not): the directors need
    /// `address6` then.
    pub ipv6: bool,
}

/// A declared real server's name, as members find it.
#[derive(Clone, Copy, Default)]
struct Known {
    /// The server's address once lowered (of its last declaration, should the name be
    /// declared twice): a member carries it, so that a director's files need no lookup
    /// per membership.
    address: Option<Ipv4Addr>,
    /// Its `address6`, for IPv6 services.
    address6: Option<Ipv6Addr>,
    /// Why it cannot hold an IPv6 VIP, if it cannot.
    ipv6_blocker: Option<Ipv6Blocker>,
    /// Whether its IPv6 problem was reported: once per server, not per service.
    ipv6_reported: bool,
    /// The first declaration of the name that lowered, which holds the member's VIP.
    holder: Option<ServerId>,
    /// The last service that listed the name, and the member's position in its list: a
    /// second listing in that service is a duplicate. `None` while no service lists it.
    listed_by: Option<(ServiceId, u32)>,
}

/// What keeps a real server from holding an IPv6 VIP.
#[derive(Clone, Copy)]
enum Ipv6Blocker {
    Platform(Platform),
    Dialect(Suppression),
}

impl Ipv6Blocker {
    fn of(server: &RealServer) -> Option<Ipv6Blocker> {
        if !server.platform.profile().ipv6_vips {
            Some(Ipv6Blocker::Platform(server.platform))
        } else if dialect(server.suppression).ipv6_lock() == Ipv6Lock::None {
            Some(Ipv6Blocker::Dialect(server.suppression))
        } else {
            None
        }
    }
}

/// The declared real servers, as members find them: by name, but first as the server
/// declared after the one the member before named. Services mostly list servers in the
/// order they are declared, and in a large cluster a lookup by name misses the cache.
struct Roster<'m> {
    declared: &'m [raw::RealServer],
    /// Name → its first declaration.
    by_name: HashMap<&'m str, ServerId>,
    /// Per declared server: its name's first declaration.
    first: Vec<ServerId>,
    /// Per position of a name's first declaration: what members learn and leave there.
    known: Vec<Known>,
}

impl<'m> Roster<'m> {
    fn new(declared: &'m [raw::RealServer], lowered: &Lowered<RealServer>) -> Self {
        let mut roster = Roster {
            declared,
            by_name: HashMap::with_capacity_and_hasher(declared.len(), Default::default()),
            first: Vec::with_capacity(declared.len()),
            known: vec![Known::default(); declared.len()],
        };
        for (position, (raw, (lowered, _))) in declared.iter().zip(lowered).enumerate() {
            let position = ServerId::at(position);
            let first = *roster.by_name.entry(raw.name.as_str()).or_insert(position);
            roster.first.push(first);
            let known = &mut roster.known[first.index()];
            known.address = lowered.as_ref().map(|s| s.address.addr());
            known.address6 = lowered.as_ref().and_then(|s| s.address6).map(|net| net.addr());
            known.ipv6_blocker = lowered.as_ref().and_then(Ipv6Blocker::of);
            if known.holder.is_none() && lowered.is_some() {
                known.holder = Some(position);
            }
        }
        roster
    }

    /// A declaration of `name`, trying the one after `previous` first.
    fn find(&self, name: &str, previous: Option<ServerId>) -> Option<ServerId> {
        if let Some(next) = previous.map(|p| p.index() + 1) {
            if self.declared.get(next).is_some_and(|s| s.name == name) {
                return Some(ServerId::at(next));
            }
        }
        self.by_name.get(name).copied()
    }

    /// What members know of the name declared as `id`.
    fn known(&mut self, id: ServerId) -> &mut Known {
        &mut self.known[self.first[id.index()].index()]
    }

    /// Per declared server: whether some service lists its name.
    fn listed(&self) -> Listed {
        self.first.iter().map(|first| self.known[first.index()].listed_by.is_some()).collect()
    }
}

/// Lowers the services; `declared_servers` and `lowered_servers` are the manifest's real
/// servers, raw and lowered, in the same order.
pub fn services(
    found: &mut Vec<Diagnostic>,
    services: &[raw::Service],
    declared_servers: &[raw::RealServer],
    lowered_servers: &Lowered<RealServer>,
    book: &AddressBook,
) -> Services {
    let mut roster = Roster::new(declared_servers, lowered_servers);
    let mut declared = Declared::with_capacity_and_hasher(services.len(), Default::default());
    let mut triples: HashMap<(IpAddr, Protocol, u16), Entry> =
        HashMap::with_capacity_and_hasher(services.len(), Default::default());
    let mut lowered = Vec::new();
    let mut memberships = Vec::new();
    let mut holders = Vec::new();
    let mut ipv6 = false;
    let mut sorry_holders = Vec::new();
    let mut marks = ports::Marks::new(found, services);
    let mut marked_ports = ports::MarkedPorts::new(services);
    for (i, s) in services.iter().enumerate() {
        let entry = Entry::new("/services", i);
        let who = Who::new(What::Service, &s.name);
        let name = values::name(found, &s.name, entry.at("name"), What::Service.as_str());
        values::unique(found, &mut declared, &s.name, entry, What::Service);
        let vip = vip(found, book, &s.vip, entry.at("vip"), &who);
        ipv6 |= vip.is_some_and(|v| v.is_ipv6());
        let protocol = keyword(found, s.protocol.as_deref(), Protocol::Tcp, entry, "protocol", Code::UnknownProtocol);
        let ports = ports::ports(found, s, entry, &who, &mut marks);
        let scheduler =
            keyword(found, s.scheduler.as_deref(), Scheduler::Wlc, entry, "scheduler", Code::UnknownScheduler);
        let persistence = s.persistence.unwrap_or(0);
        let persistence = if (0..=limits::PERSISTENCE_MAX).contains(&persistence) {
            Some(persistence as u32)
        } else {
            found.push(
                Diagnostic::new(
                    Code::PersistenceOutOfRange,
                    entry.key("persistence"),
                    format!("{who} has persistence {persistence}, outside 0-{} seconds", limits::PERSISTENCE_MAX),
                )
                .hint("persistence is in seconds; 300 is a common choice, 0 turns it off"),
            );
            None
        };
        if ports == Some(Ports::One(0)) && persistence == Some(0) {
            found.push(
                Diagnostic::new(
                    Code::PortZeroNeedsPersistence,
                    entry.key("port"),
                    format!("{who} forwards every port (port 0) but is not persistent"),
                )
                .hint("add \"persistence\": 300 (seconds), or give the service its port"),
            );
        }
        if let (Some(vip), Some(protocol), Some(ports)) = (vip, protocol, &ports) {
            marked_ports.note(vip, protocol, ports, entry, &s.name);
            if let Ports::One(port) = *ports {
                if let Some(first) = triples.get(&(vip, protocol, port)) {
                    let hint = format!("the first is at {}; merge them or change the port", first.key("vip"));
                    found.push(
                        Diagnostic::new(
                            Code::DuplicateService,
                            entry.key("vip"),
                            format!("{who} repeats {protocol} {}", std::net::SocketAddr::new(vip, port)),
                        )
                        .hint(hint),
                    );
                } else {
                    triples.insert((vip, protocol, port), entry);
                }
            }
        }
        holders.clear();
        let index = ServiceId::at(i);
        let members = members(found, &s.real_servers, (index, entry, vip), &who, &mut roster, &mut holders);
        if let (Some(members), Some(vip), Some(ports)) = (&members, vip, &ports) {
            let target = || match ports {
                Ports::One(0) => format!("{vip}"),
                Ports::One(port) => std::net::SocketAddr::new(vip, *port).to_string(),
                Ports::Marked(marked) => {
                    let list: Vec<String> = marked.ranges.iter().map(|r| r.to_string()).collect();
                    format!("{vip} ports {}", list.join(","))
                }
            };
            if members.is_empty() {
                // keepalived ignores a virtual server without real servers, so no director
                // file programs it: the VIP answers, the port refuses.
                found.push(
                    Diagnostic::new(
                        Code::EmptyService,
                        entry.key("real_servers"),
                        format!("{who} has no real servers: connections to {} are refused", target()),
                    )
                    .hint("add a real server; the directors' files leave the service out until it has one"),
                );
            } else if members.iter().all(|m| m.weight == 0) {
                found.push(
                    Diagnostic::new(
                        Code::DrainedService,
                        entry.key("real_servers"),
                        format!("every real server of {who} has weight 0: IPVS sends new connections to {} nowhere", target()),
                    )
                    .hint("give at least one real server a weight above 0, unless the service is being drained on purpose"),
                );
            }
        }
        let mut members = members;
        // The director-side keys: the check (and members' overrides), sorry server, quorum.
        let checks = match (protocol, &ports) {
            (Some(protocol), Some(ports)) => {
                let checked = CheckedService { entry, who: &who, protocol, check_port: ports.check_port() };
                let check = checks::health_check(found, checked, s.health_check.as_ref(), None);
                let mut overrides_ok = true;
                for (j, m) in s.real_servers.iter().enumerate() {
                    let Some(own) = &m.health_check else { continue };
                    let at = pointer(&pointer(&entry.key("real_servers"), j), "health_check");
                    // What the member inherits was reported for the service: keep only
                    // the problems written in the member's own object.
                    let mut own_found = Vec::new();
                    let lowered =
                        checks::health_check(&mut own_found, checked, s.health_check.as_ref(), Some((own, at.clone())));
                    // Unless none was: a conflict between the member's keys and the
                    // service's may be reported at the service's; it must still be said.
                    let (own, inherited): (Vec<_>, Vec<_>) =
                        own_found.into_iter().partition(|d| d.path.starts_with(&at));
                    if own.is_empty() && lowered.is_none() {
                        found.extend(inherited);
                    }
                    found.extend(own);
                    overrides_ok &= lowered.is_some();
                    if let (Some(list), Some(lowered)) = (members.as_mut(), lowered) {
                        list[j].health_check = Some(Box::new(lowered));
                    }
                }
                check.filter(|_| overrides_ok)
            }
            _ => None,
        };
        let sorry = match &s.sorry_server {
            Some(text) => {
                checks::sorry_server(found, text, entry, &who, vip, members.as_deref().unwrap_or_default(), book)
                    .map(Some)
            }
            None => Some(None),
        };
        if let Some(Some((address, holder))) = sorry {
            sorry_holders.push(holder);
            // The sorry server holds the VIP like a member: an IPv6 one needs its lock.
            if let (IpAddr::V6(_), Some(vip), Some(blocker)) = (address, vip, roster.known(holder).ipv6_blocker) {
                let name = &declared_servers[holder.index()].name;
                let why = match blocker {
                    Ipv6Blocker::Platform(platform) => format!("runs {platform}, whose kernel cannot hold it safely"),
                    Ipv6Blocker::Dialect(suppression) => {
                        format!("uses {suppression}, which sees ARP only: its Neighbour Discovery would answer for it")
                    }
                };
                found.push(
                    Diagnostic::new(
                        Code::Ipv6Unavailable,
                        entry.key("sorry_server"),
                        format!("{who}'s sorry server {name} would hold the IPv6 VIP {vip}, but it {why}"),
                    )
                    .hint(format!(
                        "give {} \"arp_suppression\": \"sysctl\" (or nftables on {{on:default-nftables}}), or choose another sorry server",
                        Role::RealServer.named(name)
                    )),
                );
            }
        }
        let quorum = checks::quorum(found, s, entry, &who, members.as_deref());
        let service = match (name, vip, protocol, ports, scheduler, persistence, members, checks, sorry, quorum) {
            (
                Some(name),
                Some(vip),
                Some(protocol),
                Some(ports),
                Some(scheduler),
                Some(persistence),
                Some(members),
                Some(health_check),
                Some(sorry),
                Some(quorum),
            ) => {
                memberships.extend(holders.iter().map(|&holder| Membership { holder, vip, service: index }));
                // The sorry server answers from the VIP too: it holds it like a member.
                memberships.extend(sorry.map(|(_, holder)| Membership { holder, vip, service: index }));
                let sorry_server = sorry.map(|(address, holder)| SorryServer {
                    server: Name::of(&declared_servers[holder.index()].name).expect("a lowered server's name is valid"),
                    address,
                });
                Some(Service {
                    name,
                    vip,
                    protocol,
                    ports,
                    scheduler,
                    persistence,
                    health_check,
                    sorry_server,
                    quorum,
                    members,
                })
            }
            _ => None,
        };
        lowered.push((service, entry));
    }
    marked_ports.report(found);
    let mut listed = roster.listed();
    for holder in sorry_holders {
        listed.insert(holder);
    }
    Services { services: lowered, memberships, listed, ipv6 }
}

/// A keyword key of a service (`protocol`, `scheduler`), or its default when absent.
fn keyword<K: Keyword>(
    found: &mut Vec<Diagnostic>,
    text: Option<&str>,
    default: K,
    entry: Entry,
    key: &str,
    code: Code,
) -> Option<K> {
    let Some(text) = text else { return Some(default) };
    let parsed = K::parse(text);
    if parsed.is_none() {
        found.push(enum_error(code, &entry.key(key), key, text, &K::names()));
    }
    parsed
}

/// The members of the service at `service` (its id, its entry, its VIP if valid);
/// `holders` gets the real server that holds each one's VIP.
fn members<'m>(
    found: &mut Vec<Diagnostic>,
    members: &'m [raw::Member],
    (service, entry, vip): (ServiceId, Entry, Option<IpAddr>),
    who: &Who,
    roster: &mut Roster<'_>,
    holders: &mut Vec<ServerId>,
) -> Option<Vec<Member>> {
    // This loop runs once per membership, hundreds of thousands of times in a large
    // cluster: one lookup each, and paths built only for a diagnostic. A declared server
    // remembers where this service listed it; an undeclared name (an error already) is
    // remembered here.
    let mut undeclared_seen: HashMap<&'m str, usize> = HashMap::default();
    let mut lowered = Some(Vec::with_capacity(members.len()));
    let member_path = |j: usize| pointer(&entry.key("real_servers"), j);
    let server_path = |j: usize| pointer(&member_path(j), "server");
    let mut previous = None;
    for (j, m) in members.iter().enumerate() {
        let position = u32::try_from(j).expect("fewer than 2^32 members fit in a manifest");
        let first;
        // A declared server that did not lower has its own error: the member is dropped.
        let server = if let Some(declared) = roster.find(&m.server, previous) {
            previous = Some(declared);
            let server = roster.known(declared);
            first = match server.listed_by {
                Some((by, at)) if by == service => Some(at as usize),
                _ => {
                    server.listed_by = Some((service, position));
                    None
                }
            };
            holders.extend(server.holder);
            let address = match vip {
                Some(IpAddr::V6(vip)) => ipv6_member(found, server, vip, &m.server, who, || server_path(j)),
                Some(IpAddr::V4(_)) | None => server.address.map(IpAddr::V4),
            };
            Name::of(&m.server).zip(address)
        } else {
            first = undeclared_seen.get(m.server.as_str()).copied();
            if first.is_none() {
                undeclared_seen.insert(&m.server, j);
            }
            let diagnostic = Diagnostic::new(
                Code::UnknownServer,
                server_path(j),
                format!("{who} names {}, which is not declared", Role::RealServer.named(&quoted(&m.server))),
            );
            found.push(match did_you_mean(&m.server, roster.by_name.keys().copied()) {
                Some(close) => diagnostic.hint(format!("did you mean \"{close}\"?")),
                None => diagnostic.hint("declare it in the top-level \"real_servers\" list"),
            });
            None
        };
        if let Some(first) = first {
            let hint = format!("already listed at {}; list each real server once per service", server_path(first));
            found.push(
                Diagnostic::new(
                    Code::DuplicateMember,
                    server_path(j),
                    format!("{who} lists {} twice", Role::RealServer.named(&m.server)),
                )
                .hint(hint),
            );
        }
        let weight = u16::try_from(m.weight.unwrap_or(1)).ok();
        if weight.is_none() {
            found.push(
                Diagnostic::new(
                    Code::WeightOutOfRange,
                    pointer(&member_path(j), "weight"),
                    format!(
                        "{who} gives {} weight {}, outside 0-65535",
                        Role::RealServer.named(&m.server),
                        m.weight.unwrap_or(1)
                    ),
                )
                .hint("weights are 0-65535; 0 quiesces the server"),
            );
        }
        lowered = match (lowered, server, weight) {
            (Some(mut list), Some((server, address)), Some(weight)) => {
                list.push(Member { server, address, weight, health_check: None });
                Some(list)
            }
            _ => None,
        };
    }
    lowered
}

/// A member's IPv6 address in a service whose VIP is `vip`, or the reason it has none
/// (reported once per server).
fn ipv6_member(
    found: &mut Vec<Diagnostic>,
    server: &mut Known,
    vip: Ipv6Addr,
    name: &str,
    who: &Who,
    path: impl Fn() -> String,
) -> Option<IpAddr> {
    // A server that did not lower has its own errors.
    server.address?;
    let host = Role::RealServer.named(name);
    let problem = if let Some(blocker) = server.ipv6_blocker {
        let (message, hint) = match blocker {
            Ipv6Blocker::Platform(platform) => (
                format!("{who} has the IPv6 VIP {vip}, but {host} runs {platform}, whose kernel cannot hold it safely"),
                "IPv6 VIPs need {on:ipv6} (IPVS's IPv6 and `ip`'s nodad): move the server to a later platform or keep the service on IPv4".to_owned(),
            ),
            Ipv6Blocker::Dialect(suppression) => (
                format!("{who} has the IPv6 VIP {vip}, but {host} uses {suppression}, which sees ARP only: its Neighbour Discovery would answer for the VIP"),
                format!("give {host} \"arp_suppression\": \"sysctl\" (the VIPs on lo), or \"nftables\" on {{on:default-nftables}}"),
            ),
        };
        Diagnostic::new(Code::Ipv6Unavailable, path(), message).hint(hint)
    } else if server.address6.is_none() {
        Diagnostic::new(
            Code::MissingAddress6,
            path(),
            format!("{who} has the IPv6 VIP {vip}, but {host} has no address6 for IPVS to forward to"),
        )
        .hint(format!("add {host}'s IPv6 address on the segment, e.g. \"address6\": \"2001:db8:10::11/64\""))
    } else {
        return server.address6.map(IpAddr::V6);
    };
    if !server.ipv6_reported {
        server.ipv6_reported = true;
        found.push(problem);
    }
    None
}

/// A service's VIP: a bare unicast address no host owns and no subnet starts or ends with.
fn vip(found: &mut Vec<Diagnostic>, book: &AddressBook, text: &str, at: At, who: &Who) -> Option<IpAddr> {
    let vip = match parse_vip(text) {
        Ok(vip) => vip,
        Err(error) => {
            found.push(error.at(at.path(), who, text));
            return None;
        }
    };
    let problem = if let Some(kind) = special(vip) {
        Diagnostic::new(Code::VipSpecial, at.path(), format!("{who} has the {kind} address {vip} as its VIP"))
            .hint("a VIP is a unicast address clients can reach")
    } else if let Some((owner_entry, key, owner)) = book.hosts.get(&vip) {
        Diagnostic::new(
            Code::VipClash,
            at.path(),
            format!("{who} uses {vip} as its VIP, but that is {owner}'s own address"),
        )
        .hint(format!("{owner} has it at {}; a VIP must be an address no host owns", owner_entry.key(key)))
    } else if let Some(owner) = book.subnet_edges.get(&vip) {
        Diagnostic::new(
            Code::VipClash,
            at.path(),
            match vip {
                IpAddr::V4(_) => format!(
                    "{who} uses {vip} as its VIP, but that is the network or broadcast address of {owner}'s subnet"
                ),
                IpAddr::V6(_) => format!(
                    "{who} uses {vip} as its VIP, but that is the subnet-router anycast address of {owner}'s prefix"
                ),
            },
        )
        .hint("choose a host address for the VIP")
    } else {
        return Some(vip);
    };
    // A rejected VIP takes no part in later checks, which would only repeat the problem.
    found.push(problem);
    None
}
