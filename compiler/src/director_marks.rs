//! How a director marks the packets of its firewall-mark services: the rules' form (by
//! its platform's tool and its firewall), where they live, what loads them at boot, and
//! the rules themselves, one per (VIP, protocol, port range).

// A new platform, firewall or form must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::{ArtifactKind, Step};
use crate::model::{Cluster, Director, Firewall, PortRange, Protocol};
use crate::platform::{InitSystem, MarkTool};
use std::net::IpAddr;

/// The form of a director's mark rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkForm {
    /// An nftables script that replaces the table `inet lvsdr_marks` whole (el8+).
    Nftables,
    /// iptables-restore input for one family: the chain `LVSDR-MARKS` of the mangle
    /// table, restored with `--noflush` beside other programs' rules (el4–el7 without
    /// firewalld).
    Iptables(Family),
    /// firewalld's direct rules (el7 with firewalld): firewalld's iptables backend flushes
    /// every chain when it starts or reloads, and puts its direct rules back after.
    FirewalldDirect,
}

/// An address family, for the iptables forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// What loads the rules at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkLoader {
    /// `lvsdr-marks.service`, ordered before keepalived.
    Unit,
    /// `/etc/rc.d/init.d/lvsdr-marks`, started by chkconfig after iptables, before pulse.
    InitScript,
    /// firewalld itself.
    Firewalld,
}

pub const NFT_RULES: &str = "/etc/lvsdr/director-marks.nft";
pub const IPTABLES_RULES: &str = "/etc/lvsdr/director-marks.iptables";
pub const IP6TABLES_RULES: &str = "/etc/lvsdr/director-marks.ip6tables";
pub const FIREWALLD_DIRECT: &str = "/etc/firewalld/direct.xml";
pub const UNIT: &str = "lvsdr-marks.service";
pub const UNIT_PATH: &str = "/etc/systemd/system/lvsdr-marks.service";
pub const INIT_SCRIPT: &str = "/etc/rc.d/init.d/lvsdr-marks";
/// The iptables chain (mangle table) the rules live in.
pub const CHAIN: &str = "LVSDR-MARKS";
/// The nftables table (family inet) the rules live in.
pub const TABLE: &str = "lvsdr_marks";

/// The marks of one firewall-mark service: packets to `vip`, `protocol`, `ranges` get `mark`.
pub struct MarkRule<'c> {
    pub service: &'c str,
    pub vip: IpAddr,
    pub protocol: Protocol,
    /// Sorted, disjoint.
    pub ranges: &'c [PortRange],
    pub mark: u32,
}

impl MarkRule<'_> {
    /// The ports as an nft set: `{ 80, 443, 8000-8099 }`.
    pub fn nft_ports(&self) -> String {
        let list: Vec<String> = self.ranges.iter().map(|r| r.to_string()).collect();
        format!("{{ {} }}", list.join(", "))
    }

    /// Each port or range as iptables writes it: `80`, `8000:8099` (one rule each: the
    /// tcp match takes one range, and multiport's ranges are younger than el4's iptables).
    pub fn iptables_ports(&self) -> Vec<String> {
        self.ranges
            .iter()
            .map(|r| if r.first == r.last { r.first.to_string() } else { format!("{}:{}", r.first, r.last) })
            .collect()
    }

    /// The destination as iptables matches it: the VIP as a host route.
    pub fn iptables_destination(&self) -> String {
        match self.vip {
            IpAddr::V4(v4) => format!("{v4}/32"),
            IpAddr::V6(v6) => format!("{v6}/128"),
        }
    }

    pub fn family(&self) -> Family {
        match self.vip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// The marks of every firewall-mark service of the cluster, in manifest order.
pub fn rules(cluster: &Cluster) -> Vec<MarkRule<'_>> {
    cluster
        .services
        .iter()
        .filter(|service| service.on_directors())
        .filter_map(|service| {
            service.ports.marked().map(|marked| MarkRule {
                service: service.name.as_str(),
                vip: service.vip,
                protocol: service.protocol,
                ranges: &marked.ranges,
                mark: marked.mark,
            })
        })
        .collect()
}

/// The forms of `director`'s rules files and their loader; none when the cluster has no
/// firewall-mark service.
pub fn plan(cluster: &Cluster, director: &Director) -> Option<(Vec<MarkForm>, MarkLoader)> {
    let rules = rules(cluster);
    if rules.is_empty() {
        return None;
    }
    let profile = director.platform.profile();
    let loader = match profile.init {
        InitSystem::Systemd => MarkLoader::Unit,
        InitSystem::SysV => MarkLoader::InitScript,
    };
    Some(match (profile.director_marks, director.firewall) {
        (MarkTool::Nftables, Firewall::Firewalld | Firewall::None) => (vec![MarkForm::Nftables], loader),
        (MarkTool::Iptables, Firewall::Firewalld) => (vec![MarkForm::FirewalldDirect], MarkLoader::Firewalld),
        (MarkTool::Iptables, Firewall::None) => {
            let mut forms = Vec::new();
            if rules.iter().any(|r| r.family() == Family::V4) {
                forms.push(MarkForm::Iptables(Family::V4));
            }
            if rules.iter().any(|r| r.family() == Family::V6) {
                forms.push(MarkForm::Iptables(Family::V6));
            }
            (forms, loader)
        }
    })
}

impl MarkForm {
    /// Where the form's file lives.
    pub fn path(self) -> &'static str {
        match self {
            MarkForm::Nftables => NFT_RULES,
            MarkForm::Iptables(Family::V4) => IPTABLES_RULES,
            MarkForm::Iptables(Family::V6) => IP6TABLES_RULES,
            MarkForm::FirewalldDirect => FIREWALLD_DIRECT,
        }
    }

    /// The artifact kind index.json gives it.
    pub fn kind(self) -> ArtifactKind {
        match self {
            MarkForm::Nftables => ArtifactKind::MarksNftables,
            MarkForm::Iptables(Family::V4) => ArtifactKind::MarksIptables,
            MarkForm::Iptables(Family::V6) => ArtifactKind::MarksIp6tables,
            MarkForm::FirewalldDirect => ArtifactKind::FirewalldDirect,
        }
    }

    /// The commands that load it now (the loader runs them at boot). An init script
    /// gives iptables-restore its file on standard input: el4's and el5's take no file name.
    pub fn load(self, loader: MarkLoader) -> Vec<Vec<String>> {
        let owned = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<String>>();
        match self {
            MarkForm::Nftables => vec![owned(&["/usr/sbin/nft", "-f", NFT_RULES])],
            MarkForm::Iptables(family) => {
                let (tool, restore, file) = iptables(family);
                // The jump is in the file; delete the one a run before left (none the first
                // time: the failure is expected), so that it is there once.
                vec![
                    owned(&["-", tool, "-t", "mangle", "-D", "PREROUTING", "-j", CHAIN]),
                    match loader {
                        MarkLoader::InitScript => owned(&[restore, "--noflush", "<", file]),
                        MarkLoader::Unit | MarkLoader::Firewalld => owned(&[restore, "--noflush", file]),
                    },
                ]
            }
            MarkForm::FirewalldDirect => Vec::new(),
        }
    }

    /// The commands that remove the rules.
    pub fn unload(self) -> Vec<Vec<String>> {
        let owned = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<String>>();
        match self {
            MarkForm::Nftables => vec![owned(&["-", "/usr/sbin/nft", "delete", "table", "inet", TABLE])],
            MarkForm::Iptables(family) => {
                let (tool, _, _) = iptables(family);
                vec![
                    owned(&["-", tool, "-t", "mangle", "-D", "PREROUTING", "-j", CHAIN]),
                    owned(&["-", tool, "-t", "mangle", "-F", CHAIN]),
                    owned(&["-", tool, "-t", "mangle", "-X", CHAIN]),
                ]
            }
            MarkForm::FirewalldDirect => Vec::new(),
        }
    }
}

/// A command of `load` or `unload` as a unit's Exec line takes it: `-` first when its
/// failure is expected, the words joined (each a constant: no quoting needed).
pub fn unit_line(command: &[String]) -> String {
    match command.split_first() {
        Some((first, rest)) if first == "-" => format!("-{}", rest.join(" ")),
        _ => command.join(" "),
    }
}

/// A command of `load` or `unload` as the init script runs it: an expected failure is
/// silenced, another one ends the script with an error when `fatal`.
pub fn shell_line(command: &[String], fatal: bool) -> String {
    match command.split_first() {
        Some((first, rest)) if first == "-" => format!("{} 2>/dev/null || :", rest.join(" ")),
        _ if fatal => format!("{} || exit 1", command.join(" ")),
        _ => command.join(" "),
    }
}

/// The services a unit restarts and reloads with: those whose restart or reload flushes
/// the rules of `forms`.
pub fn partners(forms: &[MarkForm]) -> String {
    let mut partners = Vec::new();
    for form in forms {
        partners.push(match form {
            MarkForm::Nftables => "nftables.service",
            MarkForm::Iptables(Family::V4) => "iptables.service",
            MarkForm::Iptables(Family::V6) => "ip6tables.service",
            MarkForm::FirewalldDirect => continue,
        });
    }
    partners.join(" ")
}

/// The iptables tools of a family (RHEL's paths), and its rules file.
fn iptables(family: Family) -> (&'static str, &'static str, &'static str) {
    match family {
        Family::V4 => ("/sbin/iptables", "/sbin/iptables-restore", IPTABLES_RULES),
        Family::V6 => ("/sbin/ip6tables", "/sbin/ip6tables-restore", IP6TABLES_RULES),
    }
}

/// The enable steps that load the rules now and at every boot.
pub fn enable_steps(loader: MarkLoader) -> Vec<Step> {
    match loader {
        MarkLoader::Unit => vec![
            Step::new([crate::boot::SYSTEMCTL, "daemon-reload"]),
            Step::new([crate::boot::SYSTEMCTL, "enable", UNIT]),
            Step::new([crate::boot::SYSTEMCTL, "restart", UNIT]),
        ],
        MarkLoader::InitScript => vec![
            Step::new(["/sbin/chkconfig", "--add", "lvsdr-marks"]),
            Step::new(["/sbin/service", "lvsdr-marks", "restart"]),
        ],
        // The firewalld steps' --reload reads direct.xml.
        MarkLoader::Firewalld => Vec::new(),
    }
}
