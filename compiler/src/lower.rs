//! Validate and lower: every semantic rule of the manifest, collecting all diagnostics,
//! and the typed `model::Cluster` when there are no errors.
//!
//! Every check is linear in the manifest's size: lookups go through hash maps, and the
//! only product is directors × real servers (a cluster has one or two directors).

use crate::codes::Code;
use crate::diag::{did_you_mean, has_errors, pointer, Diagnostic};
use crate::model::*;
use crate::raw;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

const DEFAULT_PLATFORM: Platform = Platform::El7;
const DEFAULT_INTERFACE: &str = "eth0";

/// Lowers a structurally sound manifest: the cluster (none when any diagnostic is an error) and the diagnostics.
pub fn lower(manifest: &raw::Manifest) -> (Option<Cluster>, Vec<Diagnostic>) {
    let mut lowering = Lowering::default();
    let cluster = lowering.cluster(manifest);
    let diagnostics = lowering.diagnostics;
    if has_errors(&diagnostics) {
        (None, diagnostics)
    } else {
        (cluster, diagnostics)
    }
}

#[derive(Default)]
struct Lowering {
    diagnostics: Vec<Diagnostic>,
    /// Every host's own address, with the pointer to it and who it belongs to.
    host_addresses: HashMap<Ipv4Addr, (String, String)>,
    /// Network and broadcast addresses of every host's subnet.
    subnet_edges: HashMap<Ipv4Addr, String>,
}

/// Where a name is first declared, for "used twice" hints.
/// Names declared so far: where, and as what ("director", "real server", "service").
type Declared<'m> = HashMap<&'m str, (String, &'static str)>;

impl Lowering {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn cluster(&mut self, m: &raw::Manifest) -> Option<Cluster> {
        if m.version != 1 {
            self.report(
                Diagnostic::new(
                    Code::UnsupportedVersion,
                    "/version",
                    format!("manifest version {} is not supported", m.version),
                )
                .hint("this lvsdr reads version 1: write \"version\": 1"),
            );
        }
        let name = self.name(&m.cluster, "/cluster", "the cluster");

        let platform = match &m.defaults.platform {
            Some(text) => self.platform(text, "/defaults/platform"),
            None => Some(DEFAULT_PLATFORM),
        };
        let interface = match &m.defaults.interface {
            Some(text) => self.interface(text, "/defaults/interface"),
            None => Interface::parse(DEFAULT_INTERFACE),
        };

        // Directors and real servers share one namespace: each gets a directory named after it.
        let mut hosts = Declared::new();
        let directors = self.directors(&m.directors, platform, interface.as_ref(), &mut hosts);
        let real_servers = self.real_servers(&m.real_servers, platform, interface.as_ref(), &mut hosts);
        let services = self.services(&m.services, &m.real_servers);
        self.one_segment(&directors, &services, &real_servers);
        self.alias_numbers(&services);
        let failover = self.failover(&m.directors, &directors, &services);
        let vrrp_router_id = self.vrrp_router_id(m.vrrp_router_id, &m.cluster);
        let named: HashSet<&str> =
            m.services.iter().flat_map(|s| s.real_servers.iter().map(|r| r.server.as_str())).collect();
        let real_servers = self.attach_vips(&services, real_servers, &named);
        let directors = self.attach_director_vips(&services, directors);

        Some(Cluster {
            name: name?,
            directors: directors?,
            failover: failover?,
            vrrp_router_id: vrrp_router_id?,
            services: services.into_iter().map(|(s, _)| s).collect::<Option<_>>()?,
            real_servers,
        })
    }

    /// The failover software of the directors: one kind for all, and as many directors as it pairs.
    fn failover(
        &mut self,
        raw_directors: &[raw::Director],
        directors: &[(Option<Director>, String)],
        services: &[(Option<Service>, String)],
    ) -> Option<Failover> {
        let mut lowered = raw_directors.iter().zip(directors).map(|(raw, (d, path))| Some((raw, d.as_ref()?, path)));
        let Some(Some((_, primary, _))) = lowered.next() else { return None };
        let failover = primary.platform.failover();
        let mut consistent = true;
        for (raw, director, path) in lowered.flatten() {
            if director.platform.failover() != failover {
                consistent = false;
                // Point at the director's own `platform` when it wrote one, else at its name.
                let key = if raw.platform.is_some() { "platform" } else { "name" };
                self.report(
                    Diagnostic::new(
                        Code::MixedFailover,
                        pointer(path, key),
                        format!(
                            "director {} runs {} ({}), but the primary {} runs {} ({})",
                            director.name,
                            director.platform,
                            director.platform.failover(),
                            primary.name,
                            primary.platform,
                            failover
                        ),
                    )
                    .hint("pulse (el4-el6) and keepalived (el7+) cannot fail over to each other: give both directors platforms of one family"),
                );
            }
        }
        if failover == Failover::Piranha {
            if let Some((_, path)) = directors.get(2) {
                self.report(
                    Diagnostic::new(
                        Code::TooManyDirectors,
                        path.clone(),
                        format!(
                            "Piranha pairs a primary and one backup, but the cluster lists {} directors",
                            directors.len()
                        ),
                    )
                    .hint("keep two directors on el4-el6, or move the directors to el7+ (keepalived)"),
                );
                consistent = false;
            }
            for (service, path) in services {
                if let Some(service) = service.as_ref().filter(|s| s.port == 0) {
                    self.report(
                        Diagnostic::new(
                            Code::PiranhaAllPorts,
                            pointer(path, "port"),
                            format!(
                                "service {} listens on all ports, which Piranha's nanny cannot health-check",
                                service.name
                            ),
                        )
                        .hint(format!(
                            "give the service its real port, or run the directors on el7+; the primary {} runs {}",
                            primary.name, primary.platform
                        )),
                    );
                    consistent = false;
                }
            }
        }
        consistent.then_some(failover)
    }

    /// The VRRP virtual router id: the manifest's, or one derived from the cluster name.
    fn vrrp_router_id(&mut self, id: Option<i64>, cluster: &str) -> Option<u8> {
        match id {
            None => Some(derived_router_id(cluster)),
            Some(id) => {
                let range = limits::VRRP_ROUTER_ID_MIN..=limits::VRRP_ROUTER_ID_MAX;
                let valid = u8::try_from(id).ok().filter(|_| range.contains(&id));
                if valid.is_none() {
                    self.report(
                        Diagnostic::new(
                            Code::VrrpRouterIdOutOfRange,
                            "/vrrp_router_id",
                            format!("vrrp_router_id {id} is outside 1-255"),
                        )
                        .hint("write a number from 1 to 255 that no other VRRP router on the segment uses"),
                    );
                }
                valid
            }
        }
    }

    fn name(&mut self, text: &str, path: &str, what: &str) -> Option<Name> {
        let name = Name::parse(text);
        if name.is_none() {
            let suggestion: String = text
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
                .trim_matches('-')
                .chars()
                .take(63)
                .collect();
            let mut diagnostic =
                Diagnostic::new(Code::InvalidName, path, format!("{what} has an invalid name {}", quoted(text)));
            let rule = "names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit";
            diagnostic = match Name::parse(&suggestion) {
                Some(s) if text.is_ascii() => diagnostic.hint(format!("{rule}: try \"{}\"", s.as_str())),
                _ => diagnostic.hint(format!("{rule} (ASCII only: look-alike letters are rejected)")),
            };
            self.report(diagnostic);
        }
        name
    }

    /// Reports a second declaration of `text` among `declared`.
    fn unique<'m>(&mut self, declared: &mut Declared<'m>, text: &'m str, path: String, what: &'static str) {
        if let Some((first, first_what)) = declared.get(text) {
            let message = if *first_what == what {
                format!("{what} name {} is used twice", quoted(text))
            } else {
                format!("{what} name {} is already the name of a {first_what}", quoted(text))
            };
            let hint = format!("first declared at {first}; rename one of them");
            self.report(Diagnostic::new(Code::DuplicateName, path, message).hint(hint));
        } else {
            declared.insert(text, (path, what));
        }
    }

    fn platform(&mut self, text: &str, path: &str) -> Option<Platform> {
        let platform = Platform::parse(text);
        if platform.is_none() {
            self.report(enum_error(Code::UnknownPlatform, path, "platform", text, &Platform::names()));
        }
        platform
    }

    fn interface(&mut self, text: &str, path: &str) -> Option<Interface> {
        let interface = Interface::parse(text);
        if interface.is_none() {
            let hint = if let Some((parent, _)) = text.split_once(':') {
                format!("write the parent interface \"{}\": lvsdr adds the alias suffix itself", parent.escape_debug())
            } else {
                "an interface name is 1-15 of A-Z, a-z, 0-9, '_', '.', '-' (e.g. eth0, ens192, bond0.100)".into()
            };
            self.report(
                Diagnostic::new(Code::InvalidInterface, path, format!("invalid interface name {}", quoted(text)))
                    .hint(hint),
            );
        }
        interface
    }

    /// Parses a host's `a.b.c.d/len` and records it for reuse and VIP checks.
    fn host_address(&mut self, text: &str, path: &str, who: &str) -> Option<Ipv4Net> {
        let net = match parse_host(text) {
            Ok(net) => net,
            Err(diagnostic) => {
                self.report(diagnostic.at(path, who, text));
                return None;
            }
        };
        let ip = net.addr();
        let special = special_purpose(ip);
        if let Some(kind) = special {
            self.report(
                Diagnostic::new(Code::HostAddressSpecial, path, format!("{who} has the {kind} address {ip}"))
                    .hint("write the host's own unicast address"),
            );
        } else if net.prefix_len() <= 30 && (ip == net.network() || ip == net.broadcast()) {
            let which = if ip == net.network() { "network" } else { "broadcast" };
            self.report(
                Diagnostic::new(
                    Code::HostAddressSpecial,
                    path,
                    format!("{who} has {ip}, the {which} address of {}", net.trunc()),
                )
                .hint("write the host's own address in that subnet"),
            );
        }
        if let Some((first, first_who)) = self.host_addresses.get(&ip) {
            let hint = format!("{first_who} already has {ip} (at {first}); each host needs its own address");
            self.report(
                Diagnostic::new(Code::AddressReused, path, format!("{who} has address {ip}, which is already used"))
                    .hint(hint),
            );
        } else {
            self.host_addresses.insert(ip, (path.to_owned(), who.to_owned()));
        }
        if net.prefix_len() <= 30 {
            for edge in [net.network(), net.broadcast()] {
                self.subnet_edges.entry(edge).or_insert_with(|| who.to_owned());
            }
        }
        Some(net)
    }

    fn directors<'m>(
        &mut self,
        directors: &'m [raw::Director],
        default_platform: Option<Platform>,
        default_if: Option<&Interface>,
        hosts: &mut Declared<'m>,
    ) -> Vec<(Option<Director>, String)> {
        if directors.is_empty() {
            self.report(
                Diagnostic::new(Code::NoDirector, "/directors", "the cluster has no director")
                    .hint("add the LVS router(s), primary first: { \"name\": \"lvs1\", \"address\": \"10.0.0.2/24\" }"),
            );
        }
        let mut lowered = Vec::new();
        for (i, d) in directors.iter().enumerate() {
            let path = pointer("/directors", i);
            let who = format!("director {}", d.name);
            let name = self.name(&d.name, &pointer(&path, "name"), "director");
            self.unique(hosts, &d.name, pointer(&path, "name"), "director");
            let address = self.host_address(&d.address, &pointer(&path, "address"), &who);
            let interface = match &d.interface {
                Some(text) => self.interface(text, &pointer(&path, "interface")),
                None => default_if.cloned(),
            };
            let platform = match &d.platform {
                Some(text) => self.platform(text, &pointer(&path, "platform")),
                None => default_platform,
            };
            let director = match (name, address, interface, platform) {
                (Some(name), Some(address), Some(interface), Some(platform)) => {
                    Some(Director { name, address, interface, platform, vips: Vec::new() })
                }
                _ => None,
            };
            lowered.push((director, path));
        }
        lowered
    }

    fn real_servers<'m>(
        &mut self,
        servers: &'m [raw::RealServer],
        default_platform: Option<Platform>,
        default_if: Option<&Interface>,
        hosts: &mut Declared<'m>,
    ) -> Vec<(Option<RealServer>, String)> {
        let mut lowered = Vec::new();
        for (i, s) in servers.iter().enumerate() {
            let path = pointer("/real_servers", i);
            let who = format!("real server {}", s.name);
            let name = self.name(&s.name, &pointer(&path, "name"), "real server");
            self.unique(hosts, &s.name, pointer(&path, "name"), "real server");
            let address = self.host_address(&s.address, &pointer(&path, "address"), &who);
            let interface = match &s.interface {
                Some(text) => self.interface(text, &pointer(&path, "interface")),
                None => default_if.cloned(),
            };
            let platform = match &s.platform {
                Some(text) => self.platform(text, &pointer(&path, "platform")),
                None => default_platform,
            };
            let suppression = platform.and_then(|platform| self.suppression(s, platform, &path, &who));
            let server = match (name, address, interface, platform, suppression) {
                (Some(name), Some(address), Some(interface), Some(platform), Some(suppression)) => {
                    Some(RealServer { name, address, interface, platform, suppression, vips: Vec::new() })
                }
                _ => None,
            };
            lowered.push((server, path));
        }
        lowered
    }

    fn suppression(&mut self, s: &raw::RealServer, platform: Platform, path: &str, who: &str) -> Option<Suppression> {
        let tool_path = pointer(path, "arp_suppression");
        let tool = match &s.arp_suppression {
            None => platform.default_tool(),
            Some(text) => match SuppressionTool::parse(text) {
                Some(tool) => tool,
                None => {
                    self.report(enum_error(
                        Code::UnknownSuppression,
                        &tool_path,
                        "ARP suppression method",
                        text,
                        &SuppressionTool::names(),
                    ));
                    return None;
                }
            },
        };
        let suppression = platform.suppression(tool);
        match suppression {
            None => {
                let has = platform.default_tool();
                self.report(
                    Diagnostic::new(
                        Code::SuppressionUnavailable,
                        tool_path,
                        format!("{who} runs {platform}, which has no {tool}"),
                    )
                    .hint(format!("{platform} suppresses ARP with {has}: write \"{has}\" or remove the key")),
                );
            }
            Some(Suppression::Nftables) if platform == Platform::El7 => {
                self.report(
                    Diagnostic::new(Code::El7NftablesVersion, tool_path, format!("{who} runs el7 with nftables, whose `arp saddr ip` needs nftables 0.9.1 or later"))
                        .hint("RHEL 7 ships nftables 0.8; use \"arptables\" (el7's default) unless the server has a newer nft"),
                );
            }
            Some(_) => {}
        }
        suppression
    }

    fn services(
        &mut self,
        services: &[raw::Service],
        declared_servers: &[raw::RealServer],
    ) -> Vec<(Option<Service>, String)> {
        let known_servers: HashSet<&str> = declared_servers.iter().map(|s| s.name.as_str()).collect();
        let mut declared = Declared::new();
        let mut triples: HashMap<(Ipv4Addr, Protocol, u16), String> = HashMap::new();
        let mut lowered = Vec::new();
        for (i, s) in services.iter().enumerate() {
            let path = pointer("/services", i);
            let who = format!("service {}", s.name);
            let name = self.name(&s.name, &pointer(&path, "name"), "service");
            self.unique(&mut declared, &s.name, pointer(&path, "name"), "service");
            let vip = self.vip(&s.vip, &pointer(&path, "vip"), &who);
            let protocol = match &s.protocol {
                None => Some(Protocol::Tcp),
                Some(text) => {
                    let p = Protocol::parse(text);
                    if p.is_none() {
                        self.report(enum_error(
                            Code::UnknownProtocol,
                            &pointer(&path, "protocol"),
                            "protocol",
                            text,
                            &Protocol::names(),
                        ));
                    }
                    p
                }
            };
            let port = u16::try_from(s.port).ok();
            if port.is_none() {
                self.report(
                    Diagnostic::new(
                        Code::PortOutOfRange,
                        pointer(&path, "port"),
                        format!("{who} has port {}, outside 0-65535", s.port),
                    )
                    .hint("write the service's port; 0 means every port (with persistence)"),
                );
            }
            let scheduler = match &s.scheduler {
                None => Some(Scheduler::Wlc),
                Some(text) => {
                    let sched = Scheduler::parse(text);
                    if sched.is_none() {
                        self.report(enum_error(
                            Code::UnknownScheduler,
                            &pointer(&path, "scheduler"),
                            "scheduler",
                            text,
                            &Scheduler::names(),
                        ));
                    }
                    sched
                }
            };
            let persistence = s.persistence.unwrap_or(0);
            let persistence = if (0..=limits::PERSISTENCE_MAX).contains(&persistence) {
                Some(persistence as u32)
            } else {
                self.report(
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
                self.report(
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
                    self.report(
                        Diagnostic::new(
                            Code::DuplicateService,
                            vip_path,
                            format!("{who} repeats {protocol} {vip}:{port}"),
                        )
                        .hint(hint),
                    );
                } else {
                    triples.insert((vip, protocol, port), vip_path);
                }
            }
            let members = self.members(&s.real_servers, &path, &who, &known_servers);
            let service = match (name, vip, protocol, port, scheduler, persistence, members) {
                (
                    Some(name),
                    Some(vip),
                    Some(protocol),
                    Some(port),
                    Some(scheduler),
                    Some(persistence),
                    Some(members),
                ) => Some(Service { name, vip, protocol, port, scheduler, persistence, members }),
                _ => None,
            };
            lowered.push((service, path));
        }
        lowered
    }

    fn members(
        &mut self,
        members: &[raw::Member],
        path: &str,
        who: &str,
        known: &HashSet<&str>,
    ) -> Option<Vec<Member>> {
        let mut seen: HashMap<&str, String> = HashMap::new();
        let mut lowered = Some(Vec::new());
        for (j, m) in members.iter().enumerate() {
            let member_path = pointer(&pointer(path, "real_servers"), j);
            let server_path = pointer(&member_path, "server");
            let server = if known.contains(m.server.as_str()) {
                Name::parse(&m.server)
            } else {
                let mut diagnostic = Diagnostic::new(
                    Code::UnknownServer,
                    server_path.clone(),
                    format!("{who} names real server {}, which is not declared", quoted(&m.server)),
                );
                diagnostic = match did_you_mean(&m.server, known.iter().copied()) {
                    Some(close) => diagnostic.hint(format!("did you mean \"{close}\"?")),
                    None => diagnostic.hint("declare it in the top-level \"real_servers\" list"),
                };
                self.report(diagnostic);
                None
            };
            if let Some(first) = seen.get(m.server.as_str()) {
                let hint = format!("already listed at {first}; list each real server once per service");
                self.report(
                    Diagnostic::new(
                        Code::DuplicateMember,
                        server_path,
                        format!("{who} lists real server {} twice", m.server),
                    )
                    .hint(hint),
                );
            } else {
                seen.insert(&m.server, server_path);
            }
            let weight = u16::try_from(m.weight.unwrap_or(1)).ok();
            if weight.is_none() {
                self.report(
                    Diagnostic::new(
                        Code::WeightOutOfRange,
                        pointer(&member_path, "weight"),
                        format!(
                            "{who} gives real server {} weight {}, outside 0-65535",
                            m.server,
                            m.weight.unwrap_or(1)
                        ),
                    )
                    .hint("weights are 0-65535; 0 quiesces the server"),
                );
            }
            lowered = match (lowered, server, weight) {
                (Some(mut list), Some(server), Some(weight)) => {
                    list.push(Member { server, weight });
                    Some(list)
                }
                _ => None,
            };
        }
        lowered
    }

    fn vip(&mut self, text: &str, path: &str, who: &str) -> Option<Ipv4Addr> {
        let vip = match parse_vip(text) {
            Ok(vip) => vip,
            Err(diagnostic) => {
                self.report(diagnostic.at(path, who, text));
                return None;
            }
        };
        let problem = if let Some(kind) = special_purpose(vip) {
            Diagnostic::new(Code::VipSpecial, path, format!("{who} has the {kind} address {vip} as its VIP"))
                .hint("a VIP is a unicast address clients can reach")
        } else if let Some((at, owner)) = self.host_addresses.get(&vip) {
            Diagnostic::new(
                Code::VipClash,
                path,
                format!("{who} uses {vip} as its VIP, but that is {owner}'s own address"),
            )
            .hint(format!("{owner} has it at {at}; a VIP must be an address no host owns"))
        } else if let Some(owner) = self.subnet_edges.get(&vip) {
            Diagnostic::new(
                Code::VipClash,
                path,
                format!(
                    "{who} uses {vip} as its VIP, but that is the network or broadcast address of {owner}'s subnet"
                ),
            )
            .hint("choose a host address for the VIP")
        } else {
            return Some(vip);
        };
        // A rejected VIP takes no part in later checks, which would only repeat the problem.
        self.report(problem);
        None
    }

    /// Every director must reach every real server that any service forwards to on one L2 segment.
    fn one_segment(
        &mut self,
        directors: &[(Option<Director>, String)],
        services: &[(Option<Service>, String)],
        real_servers: &[(Option<RealServer>, String)],
    ) {
        let in_service: HashSet<&str> = services
            .iter()
            .filter_map(|(s, _)| s.as_ref())
            .flat_map(|s| s.members.iter().map(|m| m.server.as_str()))
            .collect();
        for (server, server_path) in real_servers {
            let Some(server) = server else { continue };
            if !in_service.contains(server.name.as_str()) {
                continue;
            }
            for (director, _) in directors {
                let Some(director) = director else { continue };
                let (d, r) = (director.address, server.address);
                if !(d.contains(&r.addr()) && r.contains(&d.addr())) {
                    self.report(
                        Diagnostic::new(
                            Code::NotOneSegment,
                            pointer(server_path, "address"),
                            format!(
                                "real server {} ({r}) and director {} ({d}) do not share a subnet, so the director cannot forward to it by MAC",
                                server.name.as_str(),
                                director.name.as_str()
                            ),
                        )
                        .hint("direct routing needs one L2 segment: check the address and prefix of both"),
                    );
                }
            }
        }
    }

    /// Gives each real server the VIPs of its services, with their stable alias labels,
    /// reports servers without a service, and sorts servers by name.
    fn attach_vips(
        &mut self,
        services: &[(Option<Service>, String)],
        servers: Vec<(Option<RealServer>, String)>,
        named: &HashSet<&str>,
    ) -> Vec<RealServer> {
        // server name -> VIP -> (path of the first service VIP naming it, service names)
        let mut served: HashMap<&str, BTreeMap<Ipv4Addr, (String, Vec<Name>)>> = HashMap::new();
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
                self.report(
                    Diagnostic::new(
                        Code::UnusedRealServer,
                        pointer(&path, "name"),
                        format!("real server {} serves no service", server.name.as_str()),
                    )
                    .hint("add it to a service's \"real_servers\", or remove it"),
                );
            }
            server.vips = self.label_vips(&format!("real server {}", server.name), &server.interface, vips);
            lowered.push(server);
        }
        lowered.sort_by(|a, b| a.name.cmp(&b.name));
        lowered
    }

    /// Two VIPs with the same alias number would share a label on every host holding both,
    /// and the directors hold them all: reported once per pair, at the second VIP.
    fn alias_numbers(&mut self, services: &[(Option<Service>, String)]) {
        let mut numbers: HashMap<u32, Ipv4Addr> = HashMap::new();
        for (service, path) in services {
            let Some(service) = service else { continue };
            let vip = service.vip;
            let number = AliasLabel::number(vip);
            match numbers.get(&number) {
                Some(other) if *other != vip => self.report(
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

    /// Gives each director every VIP of the cluster, labelled on its interface.
    fn attach_director_vips(
        &mut self,
        services: &[(Option<Service>, String)],
        directors: Vec<(Option<Director>, String)>,
    ) -> Option<Vec<Director>> {
        let mut all: BTreeMap<Ipv4Addr, (String, Vec<Name>)> = BTreeMap::new();
        for (service, path) in services {
            let Some(service) = service else { continue };
            all.entry(service.vip).or_insert_with(|| (pointer(path, "vip"), Vec::new())).1.push(service.name.clone());
        }
        // Every director is labelled (and its errors reported) before any missing one fails the whole.
        let labelled: Vec<Option<Director>> = directors
            .into_iter()
            .map(|(director, _)| {
                director.map(|mut d| {
                    d.vips = self.label_vips(&format!("director {}", d.name), &d.interface, all.clone());
                    d
                })
            })
            .collect();
        labelled.into_iter().collect()
    }

    /// Labels a host's VIPs `<interface>:<n>`, reporting labels that are too long.
    fn label_vips(
        &mut self,
        who: &str,
        interface: &Interface,
        vips: BTreeMap<Ipv4Addr, (String, Vec<Name>)>,
    ) -> Vec<ServedVip> {
        let mut labelled = Vec::new();
        for (vip, (vip_path, names)) in vips {
            match AliasLabel::new(interface, vip) {
                Ok(label) => labelled.push(ServedVip { address: vip, label, services: names }),
                Err(label) => self.report(
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
}

/// The default VRRP virtual router id: FNV-1a of the cluster name folded into 1–255, so that
/// it is stable across releases and machines (documented in the README).
fn derived_router_id(cluster: &str) -> u8 {
    let hash = cluster.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    (hash % 255 + 1) as u8
}

/// The text in double quotes, with everything but printable ASCII escaped, so that a
/// look-alike letter or an invisible character shows as `\u{430}` rather than hiding.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.escape_default())
}

fn enum_error(code: Code, path: &str, what: &str, text: &str, allowed: &[&str]) -> Diagnostic {
    let lower = text.to_ascii_lowercase();
    let hint = match did_you_mean(&lower, allowed.iter().copied()) {
        Some(close) => format!("did you mean \"{close}\"? ({what} is one of {})", allowed.join(", ")),
        None => format!("{what} is one of {}", allowed.join(", ")),
    };
    Diagnostic::new(code, path, format!("unknown {what} {}", quoted(text))).hint(hint)
}

/// An address problem before we know where it is; `at` places it.
struct AddressError {
    code: Code,
    problem: String,
    hint: String,
}

impl AddressError {
    fn new(code: Code, problem: impl Into<String>, hint: impl Into<String>) -> Self {
        AddressError { code, problem: problem.into(), hint: hint.into() }
    }

    fn at(self, path: &str, who: &str, text: &str) -> Diagnostic {
        Diagnostic::new(self.code, path, format!("{who}: {} {}", self.problem, quoted(text))).hint(self.hint)
    }
}

fn ipv6_check(text: &str) -> Result<(), AddressError> {
    let addr = text.split('/').next().unwrap_or(text);
    if addr.parse::<IpAddr>().is_ok_and(|a| a.is_ipv6()) {
        return Err(AddressError::new(
            Code::Ipv6NotSupported,
            "IPv6 is not yet supported:",
            "manifest version 1 describes IPv4 clusters",
        ));
    }
    Ok(())
}

/// `a.b.c.d/len` with len 8–32.
fn parse_host(text: &str) -> Result<Ipv4Net, AddressError> {
    ipv6_check(text)?;
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(AddressError::new(
            Code::InvalidAddress,
            "the address has no prefix length:",
            format!("write the real IP with its subnet's prefix, e.g. \"{}/24\"", text.trim()),
        ));
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| {
        AddressError::new(
            Code::InvalidAddress,
            "invalid IPv4 address",
            "write a dotted quad with its prefix, e.g. \"10.0.0.11/24\" (no leading zeros, no host names)",
        )
    })?;
    let prefix: u8 = match prefix.parse() {
        Ok(p) if prefix.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => {
            return Err(AddressError::new(
                Code::InvalidAddress,
                "invalid prefix length in",
                "the prefix is a number of bits, e.g. /24",
            ))
        }
    };
    if !(8..=32).contains(&prefix) {
        return Err(AddressError::new(
            Code::PrefixOutOfRange,
            "the prefix length must be between 8 and 32 in",
            "write the prefix of the host's subnet, e.g. /24",
        ));
    }
    Ok(Ipv4Net::new(addr, prefix).expect("prefix checked to be at most 32"))
}

/// A bare `a.b.c.d`.
fn parse_vip(text: &str) -> Result<Ipv4Addr, AddressError> {
    ipv6_check(text)?;
    if let Some((addr, _)) = text.split_once('/') {
        return Err(AddressError::new(
            Code::InvalidAddress,
            "a VIP is a single address, without prefix:",
            format!("write \"{addr}\": lvsdr adds it to the real servers as a /32"),
        ));
    }
    text.parse().map_err(|_| {
        AddressError::new(
            Code::InvalidAddress,
            "invalid IPv4 address",
            "write a dotted quad, e.g. \"10.0.0.100\" (no leading zeros, no host names)",
        )
    })
}

/// The kind of special-purpose address `ip` is, if it is one.
fn special_purpose(ip: Ipv4Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_broadcast() {
        Some("limited broadcast")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.octets()[0] >= 240 {
        Some("reserved (240.0.0.0/4)")
    } else if ip.octets()[0] == 0 {
        Some("'this network' (0.0.0.0/8)")
    } else {
        None
    }
}
