//! Pass "hosts": directors and real servers — names, addresses, interfaces, platforms and
//! suppression dialects — and the address book later passes check VIPs against.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use super::address::{parse_host, parse_host6, special_purpose, special_purpose6};
use super::entry::{Entry, What, Who};
use super::values::{self, enum_error, Declared};
use crate::codes::Code;
use crate::contract::Role;
use crate::diag::Diagnostic;
use crate::dialect::{dialect, VipDevice};
use crate::model::{Director, Firewall, Interface, NetworkStack, Platform, RealServer, Suppression, SuppressionTool};
use crate::raw;
use ipnet::{Ipv4Net, Ipv6Net};
use rustc_hash::FxHashMap as HashMap;
use smol_str::SmolStr;
use std::net::IpAddr;

/// Every host's own address and its subnet's edges, with who has them.
#[derive(Default)]
pub struct AddressBook {
    /// Address → the host's entry and the key it is at (`address`, `address6`), and who it is.
    pub hosts: HashMap<IpAddr, (Entry, &'static str, Who)>,
    /// Network and broadcast addresses of every host's IPv4 subnet, and the subnet-router
    /// anycast address of every IPv6 one → whose subnet.
    pub subnet_edges: HashMap<IpAddr, Who>,
    /// The subnets whose edges were recorded last: hosts mostly come in runs on one subnet,
    /// and the edges keep their first owner.
    last_subnet: Option<Ipv4Net>,
    last_subnet6: Option<Ipv6Net>,
}

/// A lowered entry (`None` when it had errors) with where it is in the manifest.
pub type Lowered<T> = Vec<(Option<T>, Entry)>;

/// What the pass produces.
pub struct Hosts {
    pub directors: Lowered<Director>,
    pub real_servers: Lowered<RealServer>,
    pub addresses: AddressBook,
}

/// The defaults hosts fall back on (`None` when the default itself is invalid).
pub struct HostDefaults {
    pub platform: Option<Platform>,
    pub interface: Option<Interface>,
    /// `None` when the default is invalid; `Some(None)` when the manifest gives none.
    pub network_stack: Option<Option<NetworkStack>>,
}

pub fn hosts(found: &mut Vec<Diagnostic>, m: &raw::Manifest, defaults: &HostDefaults) -> Hosts {
    // Directors and real servers share one namespace: each gets a directory named after it.
    let count = m.directors.len() + m.real_servers.len();
    let mut book = AddressBook::default();
    book.hosts.reserve(count);
    let declared = Declared::with_capacity_and_hasher(count, Default::default());
    let mut pass = Pass { found, declared, book, defaults };
    let directors = directors(&mut pass, &m.directors);
    let real_servers = real_servers(&mut pass, &m.real_servers);
    Hosts { directors, real_servers, addresses: pass.book }
}

/// What the pass threads through both lists of hosts.
struct Pass<'a, 'm> {
    found: &'a mut Vec<Diagnostic>,
    declared: Declared<'m>,
    book: AddressBook,
    defaults: &'a HostDefaults,
}

/// The keys directors and real servers share, as written.
struct Written<'m> {
    name: &'m SmolStr,
    address: &'m str,
    address6: Option<&'m str>,
    interface: Option<&'m str>,
    platform: Option<&'m str>,
}

impl<'m> From<&'m raw::Director> for Written<'m> {
    fn from(d: &'m raw::Director) -> Self {
        Written {
            name: &d.name,
            address: &d.address,
            address6: d.address6.as_deref(),
            interface: d.interface.as_deref(),
            platform: d.platform.as_deref(),
        }
    }
}

impl<'m> From<&'m raw::RealServer> for Written<'m> {
    fn from(s: &'m raw::RealServer) -> Self {
        Written {
            name: &s.name,
            address: &s.address,
            address6: s.address6.as_deref(),
            interface: s.interface.as_deref(),
            platform: s.platform.as_deref(),
        }
    }
}

/// Parses a host's `a.b.c.d/len` (at `entry`'s `address`) and records it for reuse and
/// VIP checks.
fn host_address(
    found: &mut Vec<Diagnostic>,
    book: &mut AddressBook,
    text: &str,
    entry: Entry,
    who: &Who,
) -> Option<Ipv4Net> {
    let path = || entry.key("address");
    let net = match parse_host(text) {
        Ok(net) => net,
        Err(error) => {
            found.push(error.at(path(), who, text));
            return None;
        }
    };
    let ip = net.addr();
    if let Some(kind) = special_purpose(ip) {
        found.push(
            Diagnostic::new(Code::HostAddressSpecial, path(), format!("{who} has the {kind} address {ip}"))
                .hint("write the host's own unicast address"),
        );
    } else if net.prefix_len() <= 30 && (ip == net.network() || ip == net.broadcast()) {
        let which = if ip == net.network() { "network" } else { "broadcast" };
        found.push(
            Diagnostic::new(
                Code::HostAddressSpecial,
                path(),
                format!("{who} has {ip}, the {which} address of {}", net.trunc()),
            )
            .hint("write the host's own address in that subnet"),
        );
    }
    reuse(found, book, IpAddr::V4(ip), entry, "address", who);
    if net.prefix_len() <= 30 && book.last_subnet != Some(net.trunc()) {
        book.last_subnet = Some(net.trunc());
        for edge in [net.network(), net.broadcast()] {
            book.subnet_edges.entry(IpAddr::V4(edge)).or_insert_with(|| who.clone());
        }
    }
    Some(net)
}

/// Records `ip` (at `entry`'s `key`) as `who`'s, or reports that another host has it.
fn reuse(found: &mut Vec<Diagnostic>, book: &mut AddressBook, ip: IpAddr, entry: Entry, key: &'static str, who: &Who) {
    if let Some((first, first_key, first_who)) = book.hosts.get(&ip) {
        let first = first.key(first_key);
        let hint = format!("{first_who} already has {ip} (at {first}); each host needs its own address");
        found.push(
            Diagnostic::new(
                Code::AddressReused,
                entry.key(key),
                format!("{who} has address {ip}, which is already used"),
            )
            .hint(hint),
        );
    } else {
        book.hosts.insert(ip, (entry, key, who.clone()));
    }
}

/// Parses a host's `address6` and records it for reuse and VIP checks.
fn host_address6(
    found: &mut Vec<Diagnostic>,
    book: &mut AddressBook,
    text: &str,
    entry: Entry,
    who: &Who,
) -> Option<Ipv6Net> {
    let path = || entry.key("address6");
    let net = match parse_host6(text) {
        Ok(net) => net,
        Err(error) => {
            found.push(error.at(path(), who, text));
            return None;
        }
    };
    let ip = net.addr();
    if let Some(kind) = special_purpose6(ip) {
        found.push(
            Diagnostic::new(Code::HostAddressSpecial, path(), format!("{who} has the {kind} address {ip}"))
                .hint("write the host's own global or unique-local IPv6 address on the segment"),
        );
    } else if net.prefix_len() < 127 && ip == net.network() {
        found.push(
            Diagnostic::new(
                Code::HostAddressSpecial,
                path(),
                format!("{who} has {ip}, the subnet-router anycast address of {}", net.trunc()),
            )
            .hint("write the host's own address in that prefix"),
        );
    }
    reuse(found, book, IpAddr::V6(ip), entry, "address6", who);
    if net.prefix_len() < 127 && book.last_subnet6 != Some(net.trunc()) {
        book.last_subnet6 = Some(net.trunc());
        book.subnet_edges.entry(IpAddr::V6(net.network())).or_insert_with(|| who.clone());
    }
    Some(net)
}

/// What directors and real servers have in common, lowered.
struct Common {
    /// "real server web1", for messages.
    who: Who,
    name: Option<crate::model::Name>,
    address: Option<Ipv4Net>,
    /// `Some(None)` when the host has no `address6`, `None` when it is invalid.
    address6: Option<Option<Ipv6Net>>,
    interface: Option<Interface>,
    platform: Option<Platform>,
}

impl<'m> Pass<'_, 'm> {
    fn common(&mut self, entry: Entry, role: Role, w: Written<'m>) -> Common {
        let what = What::Host(role);
        let who = Who::new(what, w.name);
        let name = values::name(self.found, w.name, entry.at("name"), what.as_str());
        values::unique(self.found, &mut self.declared, w.name.as_str(), entry, what);
        let address = host_address(self.found, &mut self.book, w.address, entry, &who);
        let address6 = match w.address6 {
            Some(text) => host_address6(self.found, &mut self.book, text, entry, &who).map(Some),
            None => Some(None),
        };
        let interface = match w.interface {
            Some(text) => values::interface(self.found, text, entry.at("interface")),
            None => self.defaults.interface.clone(),
        };
        let platform = match w.platform {
            Some(text) => values::platform(self.found, text, entry.at("platform")),
            None => self.defaults.platform,
        };
        Common { who, name, address, address6, interface, platform }
    }
}

fn directors<'m>(pass: &mut Pass<'_, 'm>, directors: &'m [raw::Director]) -> Lowered<Director> {
    if directors.is_empty() {
        pass.found.push(
            Diagnostic::new(Code::NoDirector, "/directors", "the cluster has no director")
                .hint("add the LVS router(s), primary first: { \"name\": \"lvs1\", \"address\": \"10.0.0.2/24\" }"),
        );
    }
    let mut lowered = Vec::new();
    for (i, d) in directors.iter().enumerate() {
        let entry = Entry::new("/directors", i);
        let c = pass.common(entry, Role::Director, d.into());
        let firewall = c.platform.and_then(|platform| firewall(pass.found, d, platform, entry, &c.who));
        let director = match (c.name, c.address, c.address6, c.interface, c.platform, firewall) {
            (Some(name), Some(address), Some(address6), Some(interface), Some(platform), Some(firewall)) => {
                Some(Director {
                    name,
                    address,
                    address6,
                    interface,
                    platform,
                    firewall,
                    vrrp_priority: vrrp_priority(i),
                    vips: Vec::new(),
                })
            }
            _ => None,
        };
        lowered.push((director, entry));
    }
    lowered
}

/// A director's firewall: the manifest's, or the platform's (firewalld where it ships).
fn firewall(
    found: &mut Vec<Diagnostic>,
    d: &raw::Director,
    platform: Platform,
    entry: Entry,
    who: &Who,
) -> Option<Firewall> {
    let ships = platform.profile().firewalld;
    let Some(text) = &d.firewall else { return Some(if ships { Firewall::Firewalld } else { Firewall::None }) };
    let Some(firewall) = Firewall::parse(text) else {
        found.push(values::enum_error(
            Code::UnknownFirewall,
            &entry.key("firewall"),
            "firewall",
            text,
            &Firewall::names(),
        ));
        return None;
    };
    match firewall {
        Firewall::Firewalld if !ships => {
            found.push(
                Diagnostic::new(
                    Code::FirewallUnavailable,
                    entry.key("firewall"),
                    format!("{who} runs {platform}, which has no firewalld"),
                )
                .hint(
                    "remove the key ({on:no-firewalld} directors' iptables rules are the admin's), or move the director to {on:firewalld}",
                ),
            );
            None
        }
        Firewall::Firewalld | Firewall::None => Some(firewall),
    }
}

fn real_servers<'m>(pass: &mut Pass<'_, 'm>, servers: &'m [raw::RealServer]) -> Lowered<RealServer> {
    let mut lowered = Vec::new();
    for (i, s) in servers.iter().enumerate() {
        let entry = Entry::new("/real_servers", i);
        let c = pass.common(entry, Role::RealServer, s.into());
        let suppression = c.platform.and_then(|platform| suppression(pass.found, s, platform, entry, &c.who));
        let stack = c.platform.and_then(|platform| network_stack(pass, s, platform, entry, &c.who));
        let server = match ((c.name, c.address, c.address6), c.interface, c.platform, suppression, stack) {
            (
                (Some(name), Some(address), Some(address6)),
                Some(interface),
                Some(platform),
                Some(suppression),
                Some(network_stack),
            ) => {
                let vip_device = match dialect(suppression).vip_device() {
                    VipDevice::ServiceInterface => interface.clone(),
                    VipDevice::Loopback => Interface::loopback(),
                };
                Some(RealServer {
                    name,
                    address,
                    address6,
                    interface,
                    platform,
                    suppression,
                    vip_device,
                    network_stack,
                    vips: Vec::new(),
                })
            }
            _ => None,
        };
        lowered.push((server, entry));
    }
    lowered
}

/// The server's network stack: its `network_stack`, the manifest's default, or its
/// platform's default, as long as the platform has it.
fn network_stack(
    pass: &mut Pass<'_, '_>,
    s: &raw::RealServer,
    platform: Platform,
    entry: Entry,
    who: &Who,
) -> Option<NetworkStack> {
    let profile = platform.profile();
    // The key to report at: the server's own `network_stack`, or its name when the stack
    // comes from the defaults.
    let (stack, key) = match &s.network_stack {
        Some(text) => {
            let Some(stack) = NetworkStack::parse(text) else {
                pass.found.push(enum_error(
                    Code::UnknownNetworkStack,
                    &entry.key("network_stack"),
                    "network stack",
                    text,
                    &NetworkStack::names(),
                ));
                return None;
            };
            (stack, "network_stack")
        }
        None => match pass.defaults.network_stack? {
            Some(stack) => (stack, "name"),
            None => return profile.network_stacks.first().copied(),
        },
    };
    if profile.network_stacks.contains(&stack) {
        return Some(stack);
    }
    let has: Vec<&str> = profile.network_stacks.iter().map(|s| s.as_str()).collect();
    let from = if s.network_stack.is_some() { "" } else { " (from defaults.network_stack)" };
    pass.found.push(
        Diagnostic::new(
            Code::NetworkStackUnavailable,
            entry.key(key),
            format!("{who} runs {platform}, which has no {stack} network stack{from}"),
        )
        .hint(match has.as_slice() {
            [only] => {
                format!("{platform} has only {only}: write it as the server's \"network_stack\", or leave the key out")
            }
            _ => format!(
                "{platform} has {}: write one of them as the server's \"network_stack\", or leave the key out",
                has.join(" and ")
            ),
        }),
    );
    None
}

/// The server's suppression dialect: its `arp_suppression` (or its platform's default)
/// as its platform ships it.
fn suppression(
    found: &mut Vec<Diagnostic>,
    s: &raw::RealServer,
    platform: Platform,
    entry: Entry,
    who: &Who,
) -> Option<Suppression> {
    let profile = platform.profile();
    let tool_path = || entry.key("arp_suppression");
    let tool = match &s.arp_suppression {
        None => profile.default_tool,
        Some(text) => match SuppressionTool::parse(text) {
            Some(tool) => tool,
            None => {
                found.push(enum_error(
                    Code::UnknownSuppression,
                    &tool_path(),
                    "ARP suppression method",
                    text,
                    &SuppressionTool::names(),
                ));
                return None;
            }
        },
    };
    let suppression = profile.suppression(tool);
    match suppression {
        None => {
            let has = profile.default_tool;
            found.push(
                Diagnostic::new(
                    Code::SuppressionUnavailable,
                    tool_path(),
                    format!("{who} runs {platform}, which has no {tool}"),
                )
                .hint(format!("{platform} suppresses ARP with {has}: write \"{has}\" or remove the key")),
            );
        }
        Some(Suppression::Nftables) => {
            if let Some(shipped) = profile.nft_without_arp_address_match {
                found.push(
                    Diagnostic::new(
                        Code::El7NftablesVersion,
                        tool_path(),
                        format!("{who} runs {platform} with nftables, whose `arp saddr ip` needs nftables 0.9.1 or later"),
                    )
                    .hint(format!(
                        "{} ships nftables {shipped}; use \"{}\" ({platform}'s default) unless the server has a newer nft",
                        profile.product, profile.default_tool
                    )),
                );
            }
        }
        // Only nftables has releases too old for the rules lvsdr writes.
        Some(Suppression::ArptablesJf | Suppression::Arptables | Suppression::Sysctl) => {}
    }
    suppression
}

/// The VRRP priority of the director at `position` (0 = primary): the primary well above
/// the rest, the backups in manifest order. 255 is reserved for an address owner.
fn vrrp_priority(position: usize) -> u8 {
    match position {
        0 => 150,
        n => 100u8.saturating_sub(u8::try_from(n - 1).unwrap_or(u8::MAX)).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_put_the_primary_first_and_never_reach_owner_or_zero() {
        assert_eq!(vrrp_priority(0), 150);
        assert_eq!(vrrp_priority(1), 100);
        assert_eq!(vrrp_priority(2), 99);
        assert_eq!(vrrp_priority(100), 1);
        assert_eq!(vrrp_priority(10_000), 1);
    }
}
