//! The validated cluster: typed values that only `lower` can build, so later stages never re-check.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use ipnet::{Ipv4Net, Ipv6Net};
use std::fmt;

pub use crate::keywords::{
    CheckType, Failover, Firewall, Keyword, NetworkStack, OnFailure, Protocol, Scheduler, Suppression, SuppressionTool,
};
pub use crate::platform::Platform;
use std::net::{IpAddr, Ipv4Addr};

/// A name matching `[a-z0-9][a-z0-9-]{0,62}`: safe as a directory, file name and shell word.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(smol_str::SmolStr);

impl Name {
    pub fn parse(text: &str) -> Option<Name> {
        Self::valid(text).then(|| Name(text.into()))
    }

    /// `parse` for text already held as a `SmolStr` (the raw manifest's), shared rather
    /// than copied.
    pub fn of(text: &smol_str::SmolStr) -> Option<Name> {
        Self::valid(text).then(|| Name(text.clone()))
    }

    pub fn as_smol_str(&self) -> &smol_str::SmolStr {
        &self.0
    }

    fn valid(text: &str) -> bool {
        let bytes = text.as_bytes();
        (1..=63).contains(&bytes.len())
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Linux interface name: 1–15 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
/// Held in place (at most 15 bytes): every host has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface(smol_str::SmolStr);

impl Interface {
    pub fn parse(text: &str) -> Option<Interface> {
        let bytes = text.as_bytes();
        let ok = (1..=15).contains(&bytes.len())
            && bytes[0] != b'.'
            && bytes[0] != b'-'
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        ok.then(|| Interface(text.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The loopback device, where the sysctl dialect puts the VIPs.
    pub fn loopback() -> Interface {
        Interface("lo".into())
    }

    /// The interface's systemd device unit, `sys-subsystem-net-devices-<name>.device`,
    /// with the name escaped as systemd-escape does (of the characters an interface name
    /// may have, only `-` needs it).
    pub fn systemd_device_unit(&self) -> String {
        format!("sys-subsystem-net-devices-{}.device", self.0.replace('-', "\\x2d"))
    }
}

/// An alias label `<interface>:<n>` that fits the kernel's 15-character limit, so it is
/// always held in place (a large cluster has hundreds of thousands of labels).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AliasLabel(smol_str::SmolStr);

impl AliasLabel {
    /// The stable alias number of a VIP: 1000 × third octet + fourth octet (10.0.1.100 → 1100).
    /// It depends on the VIP alone, so adding or removing other VIPs never renumbers it.
    pub fn number(vip: Ipv4Addr) -> u32 {
        let [_, _, c, d] = vip.octets();
        1000 * u32::from(c) + u32::from(d)
    }

    /// The label of `vip` on `interface`, or the text of one over 15 characters.
    pub fn new(interface: &Interface, vip: Ipv4Addr) -> Result<AliasLabel, String> {
        // Written by hand into a buffer the length of the longest label, and held in
        // place: a real server's VIPs are labelled hundreds of thousands of times.
        let number = Self::number(vip);
        let mut digits = [0u8; 6]; // at most 255255
        let mut start = digits.len();
        let mut rest = number;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let (interface, digits) = (interface.as_str().as_bytes(), &digits[start..]);
        let len = interface.len() + 1 + digits.len();
        if len > 15 {
            return Err(format!("{}:{number}", String::from_utf8_lossy(interface)));
        }
        let mut label = [0u8; 15];
        label[..interface.len()].copy_from_slice(interface);
        label[interface.len()] = b':';
        label[interface.len() + 1..len].copy_from_slice(digits);
        let label = std::str::from_utf8(&label[..len]).expect("an interface name and digits are ASCII");
        Ok(AliasLabel(smol_str::SmolStr::new(label)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text that reaches a configuration file or a command line as one word: it is checked
/// against a pattern at the edge, never quoted or escaped later.
macro_rules! checked_word {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(smol_str::SmolStr);

        impl $name {
            /// What `parse` accepts, as a regular expression (for `lvsdr schema`).
            pub const PATTERN: &'static str = $pattern;

            pub fn parse(text: &str) -> Option<$name> {
                let valid: fn(&str) -> bool = $valid;
                valid(text).then(|| $name(text.into()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Characters safe in a word of keepalived.conf, lvs.cf's quoted strings and a command line:
/// no space, quote, backslash, `#` or `!` (keepalived's comment characters), `$`, `;`,
/// `|`, `&`, `<`, `>`, braces or backquote.
fn plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'/' | b'-' | b'+' | b',' | b':' | b'=' | b'@' | b'%')
}

checked_word!(
    /// An absolute path to a script: `/` then plain characters, no component starting
    /// with `.` (so no `.` or `..`).
    ScriptPath,
    "^(/[A-Za-z0-9_+,:=@%-][A-Za-z0-9_.+,:=@%-]*)+$",
    |t| t.len() <= 255
        && t.starts_with('/')
        && t.split('/').skip(1).all(|c| !c.is_empty() && !c.starts_with('.'))
        && t.bytes().all(plain)
);

checked_word!(
    /// An HTTP check's path: `/` then plain characters and `?`, `~`, `*`, `(`, `)`.
    UrlPath,
    "^/[A-Za-z0-9_./+,:=@%?~*()-]*$",
    |t| t.len() <= 1024
        && t.starts_with('/')
        && t.bytes().all(|b| plain(b) || matches!(b, b'?' | b'~' | b'*' | b'(' | b')'))
);

checked_word!(
    /// A DNS host name for an HTTP check's Host header: labels of a-z, 0-9 and `-`.
    Hostname,
    "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    |t| t.len() <= 253
        && t.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
);

checked_word!(
    /// One word of a check command: plain characters, or the placeholders `{address}` and
    /// `{port}` within them.
    CheckWord,
    "^([A-Za-z0-9_./+,:=@%-]|\\{address\\}|\\{port\\})+$",
    |t| !t.is_empty()
        && t.len() <= 255
        && t.replace("{address}", "").replace("{port}", "").bytes().all(plain)
);

/// A health check as a director runs it against one real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub probe: Probe,
    /// Seconds between checks (`delay_loop`).
    pub interval: u16,
    /// Seconds a check may take.
    pub timeout: u16,
    /// Checks retried after a failed one before the server is down (keepalived's
    /// `retry`); `None`: keepalived's default.
    pub retries: Option<u8>,
    /// Seconds between retries; `None`: keepalived's default.
    pub retry_delay: Option<u16>,
    pub on_failure: OnFailure,
}

/// What a check does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A TCP connect to `port`.
    Tcp { port: u16 },
    /// A GET of `path` over HTTP or HTTPS, answered with `expect`.
    Http { tls: bool, port: u16, path: UrlPath, expect: Expect, host: Option<Hostname> },
    /// A program on the director; exit status 0 means up. `port` fills `{port}` (0 when
    /// the service forwards every port and the check names none).
    Command { argv: Vec<CheckWord>, port: u16 },
    /// A ping of the real server: what a UDP or all-ports service gets by default.
    Ping,
    /// No check: the real server is always up.
    None,
}

/// What an HTTP check's answer must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Status(u16),
    /// The body's MD5, as 32 lowercase hex digits.
    Digest(smol_str::SmolStr),
}

/// A service's sorry server: a declared real server, by its address in the VIP's family.
#[derive(Debug)]
pub struct SorryServer {
    pub server: Name,
    pub address: IpAddr,
}

/// A service's quorum: the healthy weight it needs, with hysteresis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub weight: u32,
    pub hysteresis: u32,
}

/// How the keepalived directors run VRRP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vrrp {
    /// `virtual_router_id`, 1–255.
    pub router_id: u8,
    /// Seconds between advertisements.
    pub advert_int: u8,
    /// Advertise to the other directors' addresses rather than the multicast group.
    pub unicast: bool,
    pub preempt: Preempt,
    pub track_interfaces: Vec<Interface>,
    pub notify: Option<ScriptPath>,
}

/// Whether a returning primary takes the VIPs back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preempt {
    AtOnce,
    After(u16),
    Never,
}

/// The ranges of the manifest's numbers, shared by validation and `lvsdr schema`.
pub mod limits {
    pub const ADVERT_INT_MAX: i64 = 255;
    pub const PREEMPT_DELAY_MAX: i64 = 1000;
    pub const QUORUM_MAX: i64 = 4_294_967_295;
    pub const CHECK_SECONDS_MAX: i64 = 3600;
    pub const CHECK_RETRIES_MAX: i64 = 100;
    pub const CHECK_RETRIES_MIN: i64 = 0;
    pub const PORT_MAX: i64 = 65535;
    /// A netfilter mark is 32 bits; 0 is no mark.
    pub const FIREWALL_MARK_MAX: i64 = 4_294_967_295;
    pub const WEIGHT_MAX: i64 = 65535;
    /// 31 days, ipvsadm's largest persistence timeout.
    pub const PERSISTENCE_MAX: i64 = 31 * 24 * 3600;
    pub const VRRP_ROUTER_ID_MIN: i64 = 1;
    pub const VRRP_ROUTER_ID_MAX: i64 = 255;
    /// The prefix lengths a host's segment may have.
    pub const PREFIX_MIN: u8 = 8;
    pub const PREFIX_MAX: u8 = 32;
    /// The prefix lengths a host's IPv6 segment may have (`address6`).
    pub const PREFIX6_MIN: u8 = 16;
    pub const PREFIX6_MAX: u8 = 128;
}

/// The whole validated cluster.
#[derive(Debug)]
pub struct Cluster {
    pub name: Name,
    /// In manifest order: the first is the primary.
    pub directors: Vec<Director>,
    /// What every director runs; the validator rejects a mix.
    pub failover: Failover,
    /// How the keepalived directors run VRRP (its router id names Piranha's too, unused there).
    pub vrrp: Vrrp,
    /// In manifest order.
    pub services: Vec<Service>,
    /// Sorted by name.
    pub real_servers: Vec<RealServer>,
}

#[derive(Debug)]
pub struct Director {
    pub name: Name,
    pub address: Ipv4Net,
    /// Its IPv6 address on the segment, needed when a service has an IPv6 VIP (IPVS
    /// forwards to the real servers' IPv6 addresses over it).
    pub address6: Option<Ipv6Net>,
    pub interface: Interface,
    pub platform: Platform,
    /// The firewall it runs: lvsdr lets VRRP and the services' ports in through it.
    pub firewall: Firewall,
    /// Its VRRP priority (keepalived): the primary well above the backups, which follow
    /// manifest order.
    pub vrrp_priority: u8,
    /// Every VIP of the cluster, as this director holds it when active; sorted by address.
    pub vips: Vec<ServedVip>,
}

#[derive(Debug)]
pub struct Service {
    pub name: Name,
    /// IPv4 or IPv6; its members have an address of the same family.
    pub vip: IpAddr,
    pub protocol: Protocol,
    /// The port, or the ports of a firewall-mark service.
    pub ports: Ports,
    pub scheduler: Scheduler,
    /// Seconds; 0 means no persistence.
    pub persistence: u32,
    /// How the directors check its real servers, unless a member says otherwise.
    pub health_check: HealthCheck,
    /// The real server that takes over when no member is up (it holds the VIP).
    pub sorry_server: Option<SorryServer>,
    pub quorum: Option<Quorum>,
    /// In manifest order, each real server once.
    pub members: Vec<Member>,
}

impl Service {
    /// Whether the directors' files program it: keepalived ignores a virtual server without
    /// real servers, so every director file (and the marks) leaves it out (W0003 says so).
    pub fn on_directors(&self) -> bool {
        !self.members.is_empty()
    }
}

/// The traffic a service takes on its VIP and protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    /// One port; 0 is every port (the service is then persistent).
    One(u16),
    /// A firewall-mark service: its directors mark packets to `ranges` with `mark`, and
    /// IPVS balances them as one service named by the mark.
    Marked(FirewallMark),
}

/// A firewall-mark service's mark and ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallMark {
    /// 1-4294967295, unique in the cluster.
    pub mark: u32,
    /// Sorted, disjoint, not empty.
    pub ranges: Vec<PortRange>,
}

/// Ports `first` to `last` (equal for one port), 1-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl fmt::Display for PortRange {
    /// `80`, or `8000-8099` (firewalld's and nft's form; iptables writes `8000:8099`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl Ports {
    /// The port a health check connects to unless told: the port, or the first listed;
    /// none for a service on every port.
    pub fn check_port(&self) -> Option<u16> {
        match self {
            Ports::One(0) => None,
            Ports::One(port) => Some(*port),
            Ports::Marked(marked) => Some(marked.ranges[0].first),
        }
    }

    /// The IPVS service's port in the director files: the port, or 0 for a firewall-mark
    /// service (IPVS forwards each packet to the port it was sent to either way).
    pub fn ipvs_port(&self) -> u16 {
        match self {
            Ports::One(port) => *port,
            Ports::Marked(_) => 0,
        }
    }

    pub fn marked(&self) -> Option<&FirewallMark> {
        match self {
            Ports::One(_) => None,
            Ports::Marked(marked) => Some(marked),
        }
    }
}

#[derive(Debug)]
pub struct Member {
    pub server: Name,
    /// The real server's address in the VIP's family (`address` or `address6`), resolved
    /// once by lowering (its directors' files name every membership by address).
    pub address: IpAddr,
    pub weight: u16,
    /// Its own health check, when the manifest gives it one: boxed, as few members have one.
    pub health_check: Option<Box<HealthCheck>>,
}

#[derive(Debug)]
pub struct RealServer {
    pub name: Name,
    pub address: Ipv4Net,
    /// Its IPv6 address on the segment, when it serves an IPv6 VIP (or declares one).
    pub address6: Option<Ipv6Net>,
    /// The service interface: ARP for the VIPs arrives here.
    pub interface: Interface,
    pub platform: Platform,
    pub suppression: Suppression,
    /// The device its VIPs live on, as its dialect says: `interface`, or `lo`.
    pub vip_device: Interface,
    pub network_stack: NetworkStack,
    /// The VIPs of every service it is a member of, sorted by address, each once.
    pub vips: Vec<ServedVip>,
}

/// The services a host holds a VIP for; see `ServedVip::services`.
pub type ServiceNames = smallvec::SmallVec<[Name; 1]>;

/// A VIP as one host holds it: a real server (for its services) or a director (for all).
#[derive(Debug)]
pub struct ServedVip {
    /// IPv4 VIPs sort before IPv6 ones.
    pub address: IpAddr,
    /// Its alias label (IPv4 VIPs only: ifcfg alias files and lvs.cf hold no IPv6), on hosts whose configuration names VIPs by label: a real server
    /// on the initscripts network service (ifcfg alias files) and a Piranha director
    /// (lvs.cf's `address = <vip> <dev>:<n>`). Elsewhere VIPs carry no label, so any
    /// interface name works and no two VIPs can collide.
    pub label: Option<AliasLabel>,
    /// Names of the services on this VIP that include the host, in manifest order. Nearly
    /// always one: held in place, not on the heap (a cluster has a served VIP for every
    /// membership, hundreds of thousands of them).
    pub services: ServiceNames,
}

macro_rules! display_as_str {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(Name, Interface, AliasLabel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_labels_are_interface_colon_number_up_to_15_characters() {
        for interface in ["eth0", "ens192", "bond0.100", "enp0s31f6", "a"] {
            let interface = Interface::parse(interface).unwrap();
            for (c, d) in [(0, 0), (0, 7), (0, 42), (1, 100), (9, 9), (10, 0), (99, 255), (255, 255)] {
                let vip = Ipv4Addr::new(10, 0, c, d);
                let text = format!("{interface}:{}", 1000 * u32::from(c) + u32::from(d));
                match AliasLabel::new(&interface, vip) {
                    Ok(label) => assert!(label.as_str() == text && text.len() <= 15, "{label} for {text}"),
                    Err(long) => assert!(long == text && text.len() > 15, "{long} for {text}"),
                }
            }
        }
        let long = Interface::parse("enp0s31f6.1000").unwrap();
        assert_eq!(AliasLabel::new(&long, Ipv4Addr::new(10, 0, 1, 100)), Err("enp0s31f6.1000:1100".to_owned()));
    }
}
