//! A service's `port` or `ports`: the one port, or a firewall-mark service's ranges and
//! mark; and the rule that each port of a VIP and protocol belongs to one service.

use super::entry::{Entry, What, Who};
use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::model::{limits, FirewallMark, PortRange, Ports, Protocol};
use crate::raw;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::net::IpAddr;

/// The marks of the whole cluster: those declared, and those handed out so far.
pub struct Marks {
    /// Every valid `firewall_mark` of the manifest, by the first service that declares it.
    declared: HashMap<u32, usize>,
    /// The next mark to try for a service without one.
    next: u32,
}

impl Marks {
    /// Collects the declared marks first, so that a service without one never takes a
    /// mark a later service declares (E0061 reports a mark declared twice).
    pub fn new(found: &mut Vec<Diagnostic>, services: &[raw::Service]) -> Marks {
        let mut declared: HashMap<u32, usize> = HashMap::default();
        for (i, s) in services.iter().enumerate() {
            let Some(mark) = s.firewall_mark.and_then(|m| u32::try_from(m).ok()).filter(|m| *m != 0) else {
                continue;
            };
            if let Some(&first) = declared.get(&mark) {
                let first_name = services[first].name.as_str();
                found.push(
                    Diagnostic::new(
                        Code::FirewallMarkInUse,
                        Entry::new("/services", i).key("firewall_mark"),
                        format!(
                            "{} declares firewall mark {mark}, which service {first_name} declares too",
                            Who::new(What::Service, &s.name)
                        ),
                    )
                    .hint(
                        "give each firewall-mark service its own mark, or leave the key out and let lvsdr number them",
                    ),
                );
            } else {
                declared.insert(mark, i);
            }
        }
        Marks { declared, next: 1 }
    }

    /// The lowest mark no service declares and none was given yet.
    fn hand_out(&mut self) -> u32 {
        while self.declared.contains_key(&self.next) {
            self.next += 1;
        }
        self.next += 1;
        self.next - 1
    }
}

/// Lowers a service's `port` or `ports` (and `firewall_mark`).
pub fn ports(
    found: &mut Vec<Diagnostic>,
    s: &raw::Service,
    entry: Entry,
    who: &Who,
    marks: &mut Marks,
) -> Option<Ports> {
    let mark = match (s.firewall_mark, &s.ports) {
        (None, _) => Some(None),
        (Some(mark), Some(_)) if (1..=limits::FIREWALL_MARK_MAX).contains(&mark) => Some(Some(mark as u32)),
        (Some(mark), Some(_)) => {
            found.push(
                Diagnostic::new(
                    Code::FirewallMarkInvalid,
                    entry.key("firewall_mark"),
                    format!("{who} has firewall mark {mark}, outside 1-{}", limits::FIREWALL_MARK_MAX),
                )
                .hint("a netfilter mark is 32 bits and 0 means no mark: leave the key out to let lvsdr choose"),
            );
            None
        }
        (Some(_), None) => {
            found.push(
                Diagnostic::new(
                    Code::FirewallMarkInvalid,
                    entry.key("firewall_mark"),
                    format!("{who} has a firewall mark but one port"),
                )
                .hint("a mark names a service with \"ports\"; remove the key, or list the ports in \"ports\""),
            );
            None
        }
    };
    match (s.port, &s.ports) {
        (Some(port), None) => match u16::try_from(port) {
            Ok(port) => Some(Ports::One(port)),
            Err(_) => {
                found.push(
                    Diagnostic::new(
                        Code::PortOutOfRange,
                        entry.key("port"),
                        format!("{who} has port {port}, outside 0-65535"),
                    )
                    .hint("write the service's port; 0 means every port (with persistence)"),
                );
                None
            }
        },
        (None, Some(items)) => {
            let ranges = ranges(found, items, entry, who)?;
            let mark = mark?.unwrap_or_else(|| marks.hand_out());
            Some(Ports::Marked(FirewallMark { mark, ranges }))
        }
        (Some(_), Some(_)) => {
            found.push(
                Diagnostic::new(Code::PortsInvalid, entry.key("ports"), format!("{who} has both port and ports"))
                    .hint("keep \"port\" for one port, or \"ports\" for a firewall-mark service of several"),
            );
            None
        }
        (None, None) => {
            found.push(
                Diagnostic::new(Code::PortsInvalid, entry.path(), format!("{who} has no port"))
                    .hint("add \"port\": 80 (0 for every port), or \"ports\": [80, 443] for several as one service"),
            );
            None
        }
    }
}

/// A `ports` list's ranges, sorted; every malformed item and every conflict reported.
fn ranges(found: &mut Vec<Diagnostic>, items: &[raw::PortItem], entry: Entry, who: &Who) -> Option<Vec<PortRange>> {
    let at = |i: usize| pointer(&entry.key("ports"), i);
    if items.is_empty() {
        found.push(
            Diagnostic::new(Code::PortsInvalid, entry.key("ports"), format!("{who} lists no ports"))
                .hint("list the ports: \"ports\": [80, 443], or ranges such as \"8000-8099\""),
        );
        return None;
    }
    let mut ranges: Vec<(PortRange, usize)> = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let range = match item {
            raw::PortItem::Port(port) => {
                u16::try_from(*port).ok().filter(|p| *p != 0).map(|port| PortRange { first: port, last: port })
            }
            raw::PortItem::Range(text) => text
                .split_once('-')
                .and_then(|(first, last)| Some(PortRange { first: port(first)?, last: port(last)? })),
        };
        match range {
            Some(range) if range.first > range.last => {
                found.push(
                    Diagnostic::new(
                        Code::PortsConflict,
                        at(i),
                        format!("{who} has the range {}-{}, written backwards", range.first, range.last),
                    )
                    .hint(format!("write it low to high: \"{}-{}\"", range.last, range.first)),
                );
                valid = false;
            }
            Some(range) => ranges.push((range, i)),
            None => {
                let text = match item {
                    raw::PortItem::Port(port) => port.to_string(),
                    raw::PortItem::Range(text) => format!("\"{}\"", text.escape_debug()),
                };
                found.push(
                    Diagnostic::new(
                        Code::PortsInvalid,
                        at(i),
                        format!("{who} lists {text}, which is neither a port 1-65535 nor a range of them"),
                    )
                    .hint("write a port as a number, 443, and a range as a string, \"8000-8099\""),
                );
                valid = false;
            }
        }
    }
    // Sorted by first port (then position), an overlap is always with an earlier range.
    ranges.sort();
    let mut widest: Option<(PortRange, usize)> = None;
    for &(range, i) in &ranges {
        if let Some((before, j)) = widest.filter(|(before, _)| before.overlaps(&range)) {
            let (earlier, later) = if j < i { (j, i) } else { (i, j) };
            let shared = range.first.max(before.first);
            found.push(
                Diagnostic::new(
                    Code::PortsConflict,
                    at(later),
                    format!("{who} lists port {shared} twice (items {earlier} and {later} of ports)"),
                )
                .hint("list each port once"),
            );
            valid = false;
        }
        if widest.is_none_or(|(before, _)| range.last > before.last) {
            widest = Some((range, i));
        }
    }
    valid.then(|| ranges.into_iter().map(|(range, _)| range).collect())
}

/// A range's end as the schema's pattern takes it: digits without a leading zero, 1-65535.
fn port(text: &str) -> Option<u16> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    digits.then(|| text.parse::<u16>().ok()).flatten()
}

/// Where the ports of firewall-mark services lie, per VIP and protocol, so that a port
/// another service serves can be found among them (few VIPs have such a service).
/// A service's ports as the overlap check keeps them: a range, the service's entry and name.
type Claim = (PortRange, Entry, smol_str::SmolStr);

pub struct MarkedPorts {
    /// Whether the manifest has a `ports` service at all: most have none, and then the
    /// one-port services need not be kept.
    any: bool,
    by_target: HashMap<(IpAddr, Protocol), Vec<Claim>>,
    /// The one-port services, checked against them once all are known.
    single: Vec<(IpAddr, Protocol, u16, Entry, smol_str::SmolStr)>,
}

impl MarkedPorts {
    pub fn new(services: &[raw::Service]) -> MarkedPorts {
        MarkedPorts {
            any: services.iter().any(|s| s.ports.is_some()),
            by_target: HashMap::default(),
            single: Vec::new(),
        }
    }

    /// Notes a lowered service's ports.
    pub fn note(&mut self, vip: IpAddr, protocol: Protocol, ports: &Ports, entry: Entry, name: &str) {
        match ports {
            Ports::One(_) if !self.any => {}
            Ports::One(0) => {}
            Ports::One(port) => self.single.push((vip, protocol, *port, entry, name.into())),
            Ports::Marked(marked) => {
                let list = self.by_target.entry((vip, protocol)).or_default();
                for range in &marked.ranges {
                    list.push((*range, entry, name.into()));
                }
            }
        }
    }

    /// Reports each port that a firewall-mark service shares with another service of its
    /// VIP and protocol (E0060), at the later of the two.
    pub fn report(self, found: &mut Vec<Diagnostic>) {
        if self.by_target.is_empty() {
            return;
        }
        // Reported in a fixed order, whatever the map's: the same manifest, the same output.
        let mut conflicts = Vec::new();
        let conflict = |found: &mut Vec<Diagnostic>,
                        (vip, protocol, port): (IpAddr, Protocol, u16),
                        a: (Entry, &str),
                        b: (Entry, &str)| {
            let ((_, first_name), (later, later_name)) = if a.0.index() < b.0.index() { (a, b) } else { (b, a) };
            found.push(
                Diagnostic::new(
                    Code::PortsConflict,
                    later.path(),
                    format!(
                        "service {later_name} and service {first_name} both take {protocol} port {port} of {vip}: IPVS would give it to the firewall-mark service"
                    ),
                )
                .hint("serve each port of a VIP and protocol in one service"),
            );
        };
        for (vip, protocol, port, entry, name) in &self.single {
            if let Some(list) = self.by_target.get(&(*vip, *protocol)) {
                if let Some((_, marked, marked_name)) = list.iter().find(|(range, ..)| range.contains(*port)) {
                    conflict(&mut conflicts, (*vip, *protocol, *port), (*entry, name), (*marked, marked_name));
                }
            }
        }
        let mut reported: HashSet<(usize, usize)> = HashSet::default();
        for (&(vip, protocol), list) in &self.by_target {
            for (a, (range_a, entry_a, name_a)) in list.iter().enumerate() {
                for (range_b, entry_b, name_b) in &list[a + 1..] {
                    let pair = (entry_a.index().min(entry_b.index()), entry_a.index().max(entry_b.index()));
                    if entry_a != entry_b && range_a.overlaps(range_b) && reported.insert(pair) {
                        let port = range_a.first.max(range_b.first);
                        conflict(&mut conflicts, (vip, protocol, port), (*entry_a, name_a), (*entry_b, name_b));
                    }
                }
            }
        }
        conflicts.sort_by(|a: &Diagnostic, b: &Diagnostic| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        found.extend(conflicts);
    }
}
