//! A director's artifacts: Piranha's lvs.cf or keepalived.conf, and the ipvsadm table,
//! all rendered from one list of `VirtualService` views so that they agree.

use crate::digest::Sha256Stream;
use crate::director_marks::{self, Family, MarkForm, MarkLoader, MarkRule};
use crate::model::{
    Cluster, Director, Expect, Failover, HealthCheck, Member, OnFailure, PortRange, Ports, Preempt, Probe, Protocol,
    Quorum, ServedVip, Vrrp,
};
use crate::plan::DirectorArtifact;
use askama::Template;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A virtual service as a director's configuration names it.
struct VirtualService<'a> {
    name: &'a str,
    vip: Addr,
    /// The VIP's alias label on this director (Piranha's directors have labels).
    label: Option<&'a str>,
    protocol: Protocol,
    /// The IPVS service's port (0 for every port, and for a firewall-mark service).
    port: u16,
    /// A firewall-mark service's mark: its IPVS service is named by it, not by VIP and port.
    mark: Option<u32>,
    /// A firewall-mark service's ports, for the comments; empty otherwise.
    ranges: &'a [PortRange],
    /// The port Piranha's nanny checks: the port, or a firewall-mark service's lowest.
    check_port: u16,
    scheduler: &'a str,
    persistence: u32,
    /// How its real servers are checked, unless one has its own check.
    check: &'a HealthCheck,
    sorry_server: Option<Addr>,
    quorum: Option<Quorum>,
    /// Sorted by address, as `ipvsadm-save` lists them.
    real_servers: Vec<Destination<'a>>,
}

/// A member as a director's files name it: eight bytes for each of a service's members.
struct Destination<'a>(&'a Member);

impl Destination<'_> {
    fn name(&self) -> &str {
        self.0.server.as_str()
    }

    fn address(&self) -> Addr {
        Addr::from(self.0.address)
    }

    fn weight(&self) -> u16 {
        self.0.weight
    }

    /// Its own check, if the manifest gives it one.
    fn own_check(&self) -> Option<&HealthCheck> {
        self.0.health_check.as_deref()
    }
}

/// A checker block of keepalived.conf, for one real server.
struct Checker<'a> {
    check: &'a HealthCheck,
    /// The interval of the service's check: a real server checked at another interval
    /// says so in its checker (`delay_loop` inside it).
    service_interval: u16,
    address: Addr,
    /// The VIP's family decides which ping an IPv6 server gets.
    ping: &'static str,
}

impl Checker<'_> {
    /// `delay_loop` inside the checker, when this server's interval is its own.
    fn own_interval(&self) -> Option<u16> {
        (self.check.interval != self.service_interval).then_some(self.check.interval)
    }

    /// The ping's own deadline (`-W`), a second under keepalived's for the whole check.
    fn ping_wait(&self) -> u16 {
        self.check.timeout.saturating_sub(1).max(1)
    }

    fn misc_timeout(&self) -> u16 {
        self.check.timeout + 2
    }

    /// A command check's words, with `{address}` and `{port}` filled in (lowering
    /// validated each word: joined with spaces they need no quoting).
    fn command_line(&self) -> String {
        let Probe::Command { argv, port } = &self.check.probe else { return String::new() };
        let address = self.address.to_string();
        let port = port.to_string();
        argv.iter()
            .map(|w| w.as_str().replace("{address}", &address).replace("{port}", &port))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An address as the director files print it: IPv4 through `Dotted`, IPv6 as its
/// RFC 5952 text (what `ipvsadm-save -n` and keepalived print). Ordered as `IpAddr`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Addr {
    V4(Dotted),
    V6(Ipv6Addr),
}

impl From<IpAddr> for Addr {
    fn from(address: IpAddr) -> Addr {
        match address {
            IpAddr::V4(v4) => Addr::V4(Dotted::from(v4)),
            IpAddr::V6(v6) => Addr::V6(v6),
        }
    }
}

impl Addr {
    fn is_v6(&self) -> bool {
        matches!(self, Addr::V6(_))
    }

    /// The address in ipvsadm's `ADDR:PORT` form: IPv6 in brackets.
    fn ipvsadm(&self) -> Bracketed<'_> {
        Bracketed(self)
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::V4(dotted) => dotted.fmt(f),
            Addr::V6(v6) => v6.fmt(f),
        }
    }
}

/// An address as ipvsadm writes it before `:PORT`.
struct Bracketed<'a>(&'a Addr);

impl std::fmt::Display for Bracketed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Addr::V4(dotted) => dotted.fmt(f),
            Addr::V6(v6) => write!(f, "[{v6}]"),
        }
    }
}

/// An IPv4 address's dotted text, made without the formatter. The director files print
/// an address or two for every membership (ten per real server in docs/benchmarks.md's
/// clusters), and `Ipv4Addr`'s `Display` goes through the formatter four times each.
/// Ordered as the address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Dotted {
    address: Ipv4Addr,
    text: [u8; 15],
    len: u8,
}

impl From<Ipv4Addr> for Dotted {
    fn from(address: Ipv4Addr) -> Dotted {
        let mut dotted = Dotted { address, text: [0; 15], len: 0 };
        let mut push = |byte: u8| {
            dotted.text[usize::from(dotted.len)] = byte;
            dotted.len += 1;
        };
        for (i, octet) in address.octets().into_iter().enumerate() {
            if i > 0 {
                push(b'.');
            }
            if octet >= 100 {
                push(b'0' + octet / 100);
            }
            if octet >= 10 {
                push(b'0' + octet / 10 % 10);
            }
            push(b'0' + octet % 10);
        }
        dotted
    }
}

impl std::fmt::Display for Dotted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::str::from_utf8(&self.text[..usize::from(self.len)]).expect("digits and dots"))
    }
}

impl VirtualService<'_> {
    /// How ipvsadm names the service: `-t 10.0.0.1:80`, `-u [2001:db8::1]:53`, or a
    /// firewall-mark service's `-f 1` (with `-6` for an IPv6 one).
    fn ipvsadm_service(&self) -> String {
        match (self.mark, self.protocol) {
            (Some(mark), _) if self.vip.is_v6() => format!("-f {mark} -6"),
            (Some(mark), _) => format!("-f {mark}"),
            (None, Protocol::Tcp) => format!("-t {}:{}", self.vip.ipvsadm(), self.port),
            (None, Protocol::Udp) => format!("-u {}:{}", self.vip.ipvsadm(), self.port),
        }
    }

    /// The checker block of `rs` in keepalived.conf.
    fn checker<'c>(&'c self, rs: &'c Destination<'_>, ping6: &'static str) -> Checker<'c> {
        Checker {
            check: rs.own_check().unwrap_or(self.check),
            service_interval: self.check.interval,
            address: rs.address(),
            ping: if self.vip.is_v6() { ping6 } else { "/bin/ping" },
        }
    }

    /// A firewall-mark service's ports as one list: `80,443,8000-8099`.
    fn port_list(&self) -> String {
        self.ranges.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(",")
    }

    /// Piranha's nanny's `send` string for an HTTP check (lvs.cf unescapes `\r\n`).
    fn nanny_send(&self) -> Option<String> {
        match &self.check.probe {
            Probe::Http { path, host, .. } => Some(match host {
                Some(host) => format!("GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n"),
                None => format!("GET {path} HTTP/1.0\\r\\n\\r\\n"),
            }),
            Probe::Tcp { .. } | Probe::Command { .. } | Probe::Ping | Probe::None => None,
        }
    }

    /// nanny's `expect` for an HTTP check: the status line, as a regular expression
    /// (either HTTP/1 minor version).
    fn nanny_expect(&self) -> Option<String> {
        match &self.check.probe {
            Probe::Http { expect: Expect::Status(status), .. } => Some(format!("HTTP/1.[01] {status}")),
            // Lowering refuses a digest for Piranha.
            Probe::Http { expect: Expect::Digest(_), .. }
            | Probe::Tcp { .. }
            | Probe::Command { .. }
            | Probe::Ping
            | Probe::None => None,
        }
    }
}

/// The cluster's services as `director` holds them: VIPs labelled on its interface,
/// real servers resolved to their addresses. In manifest order, services without real
/// servers left out.
fn virtual_services<'a>(cluster: &'a Cluster, director: &'a Director) -> Vec<VirtualService<'a>> {
    cluster
        .services
        .iter()
        .filter(|service| service.on_directors())
        .map(|service| {
            let label = director
                .vips
                .iter()
                .find(|v| v.address == service.vip)
                .expect("the validator gives every director every VIP")
                .label
                .as_ref()
                .map(|l| l.as_str());
            let mut real_servers: Vec<Destination<'a>> = service.members.iter().map(Destination).collect();
            real_servers.sort_by_key(|d| d.0.address);
            VirtualService {
                name: service.name.as_str(),
                vip: Addr::from(service.vip),
                label,
                protocol: service.protocol,
                port: service.ports.ipvs_port(),
                mark: service.ports.marked().map(|m| m.mark),
                ranges: service.ports.marked().map_or(&[], |m| &m.ranges[..]),
                check_port: service.ports.check_port().unwrap_or(0),
                scheduler: service.scheduler.as_str(),
                persistence: service.persistence,
                check: &service.health_check,
                sorry_server: service.sorry_server.as_ref().map(|s| Addr::from(s.address)),
                quorum: service.quorum,
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
    vrrp: &'a Vrrp,
    /// With unicast VRRP, the other directors' addresses of each family.
    peers4: Vec<Addr>,
    peers6: Vec<Addr>,
    /// The VIPs of each family: keepalived's VRRP instance holds one family's, so each
    /// family has its own instance, in one sync group when both do.
    vips4: Vec<&'a ServedVip>,
    vips6: Vec<&'a ServedVip>,
    /// How a MISC_CHECK pings an IPv6 real server on this director's release.
    ping6: &'static str,
    services: Vec<VirtualService<'a>>,
}

#[derive(Template)]
#[template(path = "modules-load.conf")]
struct ModulesLoad<'a> {
    cluster: &'a str,
    director: &'a Director,
    modules: Vec<String>,
}

#[derive(Template)]
#[template(path = "firewalld-service.xml")]
struct FirewalldService<'a> {
    cluster: &'a str,
    director: &'a Director,
    /// (protocol, port or range), sorted, each once.
    ports: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "marks.nft")]
struct MarksNft<'a> {
    cluster: &'a str,
    director: &'a Director,
    table: &'static str,
    rules: Vec<MarkRule<'a>>,
}

#[derive(Template)]
#[template(path = "marks-iptables.save")]
struct MarksIptables<'a> {
    cluster: &'a str,
    director: &'a Director,
    /// iptables-restore or ip6tables-restore.
    restore: &'static str,
    chain: &'static str,
    /// Of the file's family only.
    rules: Vec<MarkRule<'a>>,
}

#[derive(Template)]
#[template(path = "firewalld-direct.xml")]
struct FirewalldDirect<'a> {
    cluster: &'a str,
    director: &'a Director,
    rules: Vec<MarkRule<'a>>,
}

#[derive(Template)]
#[template(path = "systemd/lvsdr-marks.service")]
struct MarksUnit<'a> {
    cluster: &'a str,
    director: &'a Director,
    /// The services whose restart or reload flushes the rules.
    partner: String,
    load: Vec<String>,
    unload: Vec<String>,
}

#[derive(Template)]
#[template(path = "lvsdr-marks-init.sh")]
struct MarksInit<'a> {
    cluster: &'a str,
    director: &'a Director,
    chain: &'static str,
    load: Vec<String>,
    unload: Vec<String>,
}

/// The ports firewalld opens for the cluster's services: each (protocol, port) once, an
/// all-ports service as the whole range.
fn firewall_ports(cluster: &Cluster) -> Vec<(&'static str, String)> {
    let every = PortRange { first: 1, last: 65535 };
    let mut ports: Vec<(Protocol, PortRange)> = Vec::new();
    for service in &cluster.services {
        match &service.ports {
            Ports::One(0) => ports.push((service.protocol, every)),
            Ports::One(port) => ports.push((service.protocol, PortRange { first: *port, last: *port })),
            Ports::Marked(marked) => ports.extend(marked.ranges.iter().map(|range| (service.protocol, *range))),
        }
    }
    ports.sort();
    ports.dedup();
    ports
        .into_iter()
        .map(|(protocol, range)| {
            let name = match protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
            };
            (name, range.to_string())
        })
        .collect()
}

/// Writes `director`'s `artifact` into `out` as it renders.
pub fn emit_director<W: std::fmt::Write>(
    cluster: &Cluster,
    director: &Director,
    artifact: &DirectorArtifact,
    out: &mut W,
) -> askama::Result<()> {
    match artifact {
        DirectorArtifact::ModulesLoad => ModulesLoad {
            cluster: cluster.name.as_str(),
            director,
            modules: crate::director_steps::ipvs_modules(cluster),
        }
        .render_into(out),
        DirectorArtifact::FirewalldService => {
            FirewalldService { cluster: cluster.name.as_str(), director, ports: firewall_ports(cluster) }
                .render_into(out)
        }
        DirectorArtifact::MarkRules(form) => {
            let (cluster_name, rules) = (cluster.name.as_str(), director_marks::rules(cluster));
            match form {
                MarkForm::Nftables => {
                    MarksNft { cluster: cluster_name, director, table: director_marks::TABLE, rules }.render_into(out)
                }
                MarkForm::Iptables(family) => MarksIptables {
                    cluster: cluster_name,
                    director,
                    restore: match family {
                        Family::V4 => "iptables-restore",
                        Family::V6 => "ip6tables-restore",
                    },
                    chain: director_marks::CHAIN,
                    rules: rules.into_iter().filter(|r| r.family() == *family).collect(),
                }
                .render_into(out),
                MarkForm::FirewalldDirect => {
                    FirewalldDirect { cluster: cluster_name, director, rules }.render_into(out)
                }
            }
        }
        DirectorArtifact::MarkLoader { loader, forms } => {
            let load = || forms.iter().flat_map(|f| f.load(*loader));
            let unload = || forms.iter().flat_map(|f| f.unload());
            match loader {
                MarkLoader::Unit => MarksUnit {
                    cluster: cluster.name.as_str(),
                    director,
                    partner: director_marks::partners(forms),
                    load: load().map(|c| director_marks::unit_line(&c)).collect(),
                    unload: unload().map(|c| director_marks::unit_line(&c)).collect(),
                }
                .render_into(out),
                MarkLoader::InitScript => MarksInit {
                    cluster: cluster.name.as_str(),
                    director,
                    chain: director_marks::CHAIN,
                    load: load().map(|c| director_marks::shell_line(&c, true)).collect(),
                    unload: unload().map(|c| director_marks::shell_line(&c, false)).collect(),
                }
                .render_into(out),
                // firewalld is its own loader: the plan gives it no file.
                MarkLoader::Firewalld => Ok(()),
            }
        }
        DirectorArtifact::Ipvsadm => {
            let mut services = virtual_services(cluster, director);
            // ipvsadm-save lists services by protocol number (TCP before UDP), address, port;
            // firewall-mark services after them, by mark.
            services.sort_by_key(|s| (s.mark, s.protocol != Protocol::Tcp, s.vip, s.port));
            Ipvsadm { services }.render_into(out)
        }
        DirectorArtifact::FailoverConfig(Failover::Piranha) => {
            let mut lvs_cf = PiranhaLvsCf {
                serial_no: 0,
                primary: &cluster.directors[0],
                backup: cluster.directors.get(1),
                services: virtual_services(cluster, director),
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
            state: crate::director_steps::initial_state(cluster, std::ptr::eq(director, &cluster.directors[0])),
            vrrp: &cluster.vrrp,
            peers4: peers(cluster, director, |d| Some(IpAddr::V4(d.address.addr()))),
            peers6: peers(cluster, director, |d| d.address6.map(|a| IpAddr::V6(a.addr()))),
            vips4: director.vips.iter().filter(|v| v.address.is_ipv4()).collect(),
            vips6: director.vips.iter().filter(|v| v.address.is_ipv6()).collect(),
            ping6: director.platform.profile().ping6,
            services: virtual_services(cluster, director),
        }
        .render_into(out),
    }
}

/// The other directors' addresses (of one family), for unicast VRRP.
fn peers(cluster: &Cluster, director: &Director, address: impl Fn(&Director) -> Option<IpAddr>) -> Vec<Addr> {
    if !cluster.vrrp.unicast {
        return Vec::new();
    }
    cluster.directors.iter().filter(|d| !std::ptr::eq(*d, director)).filter_map(address).map(Addr::from).collect()
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

#[cfg(test)]
mod tests {
    use super::{Addr, Dotted};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// keepalived's and ipvsadm-save's text: RFC 5952, brackets before a port for IPv6.
    #[test]
    fn addresses_print_as_the_director_tools_do() {
        let six = Addr::from(IpAddr::V6("2001:db8:10:0:0:0:0:100".parse::<Ipv6Addr>().unwrap()));
        assert_eq!(six.to_string(), "2001:db8:10::100");
        assert_eq!(six.ipvsadm().to_string(), "[2001:db8:10::100]");
        let four = Addr::from(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)));
        assert_eq!(four.ipvsadm().to_string(), "10.0.0.100");
        assert!(four < six, "ipvsadm's file lists IPv4 services first");
    }

    /// The same text as `Ipv4Addr`'s, at every octet width.
    #[test]
    fn dotted_is_the_std_text() {
        for octet in [0u8, 7, 9, 10, 42, 99, 100, 109, 110, 199, 200, 255] {
            let address = Ipv4Addr::new(octet, 255 - octet, octet / 3, 1);
            assert_eq!(Dotted::from(address).to_string(), address.to_string());
        }
    }
}
