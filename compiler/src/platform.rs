//! Platform knowledge: one row per RHEL-family release, read by every stage.
//!
//! Which ARP-suppression dialects a release has and which one it uses by default, how it
//! starts services at boot, which network stacks it runs, and which failover software
//! its directors run. Adding a release is adding a variant to `Platform` and a row, both
//! here; `Platform::profile` matches every variant, so the compiler points at the one
//! place that needs it.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::keywords::{keyword_enum, Failover, Keyword, NetworkStack, Suppression, SuppressionTool};
use std::fmt;

keyword_enum!(
    /// The RHEL-family major release of a host: each has its row below.
    Platform { El4 = "el4", El5 = "el5", El6 = "el6", El7 = "el7", El8 = "el8", El9 = "el9", El10 = "el10" }
);

/// How a release starts services at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitSystem {
    /// SysV init with chkconfig (el4–el6).
    SysV,
    /// systemd (el7+).
    Systemd,
}

/// What a director of the release marks packets with (firewall-mark services).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkTool {
    /// iptables' mangle table (el4–el7).
    Iptables,
    /// nftables (el8+, whose iptables is nftables underneath).
    Nftables,
}

/// Everything lvsdr knows about one release.
#[derive(Debug)]
pub struct Profile {
    pub platform: Platform,
    /// The product's name, for messages.
    pub product: &'static str,
    pub init: InitSystem,
    /// The suppression dialects the release ships, one per tool.
    pub dialects: &'static [Suppression],
    /// A rules file restored by the platform's own service (arptables_jf) is restored
    /// before the network comes up: true for el4/el5 (S08), false for el6, whose init
    /// script's `Required-Start: $network` makes chkconfig order it after the network.
    pub rules_service_before_network: bool,
    /// What a real server uses when the manifest names no `arp_suppression`.
    pub default_tool: SuppressionTool,
    /// The nftables version the release ships when it predates `arp saddr ip` /
    /// `arp daddr ip` (0.9.1): lvsdr warns when such a release is given nftables.
    pub nft_without_arp_address_match: Option<&'static str>,
    /// The network stacks the release can run, its default first.
    pub network_stacks: &'static [NetworkStack],
    /// What a director of this release runs to move VIPs and program IPVS.
    pub failover: Failover,
    /// Whether a host of this release can hold an IPv6 VIP: IPVS's IPv6 (Linux 2.6.28) and
    /// `ip address add ... nodad` (2.6.19): el6 and later.
    pub ipv6_vips: bool,
    /// The command a keepalived MISC_CHECK pings an IPv6 real server with: el7's iputils
    /// (20160308) has a separate ping6; from el8 on, ping takes -6.
    pub ping6: &'static str,
    /// Whether the release ships firewalld, on by default (el7+): a director's tree then
    /// lets VRRP and the services' ports in through it.
    pub firewalld: bool,
    /// Whether its keepalived is 2.x (el8's 2.0.10 and later): `keepalived -t`, `retry`,
    /// `delay_before_retry` and `delay_loop` in every checker, `virtualhost` in HTTP_GET.
    /// el7's 1.3.5 has none of them (it ignores the keys, and exits 0 on `-t`).
    pub keepalived_2: bool,
    /// What its directors mark firewall-mark services' packets with.
    pub director_marks: MarkTool,
}

const EL4: Profile = Profile {
    platform: Platform::El4,
    product: "RHEL 4",
    init: InitSystem::SysV,
    // The kernel's ARP switches (sysctl) exist since Linux 2.6.4: every release has them.
    dialects: &[Suppression::ArptablesJf, Suppression::Sysctl],
    rules_service_before_network: true,
    default_tool: SuppressionTool::Arptables,
    nft_without_arp_address_match: None,
    network_stacks: &[NetworkStack::Initscripts],
    failover: Failover::Piranha,
    ipv6_vips: false,
    ping6: "/bin/ping6",
    firewalld: false,
    keepalived_2: false,
    director_marks: MarkTool::Iptables,
};

const EL5: Profile = Profile { platform: Platform::El5, product: "RHEL 5", ..EL4 };

const EL6: Profile =
    Profile { platform: Platform::El6, product: "RHEL 6", rules_service_before_network: false, ipv6_vips: true, ..EL4 };

const EL7: Profile = Profile {
    platform: Platform::El7,
    product: "RHEL 7",
    init: InitSystem::Systemd,
    // el7's nft (0.8) predates `arp saddr ip`; accepted with a warning for newer builds.
    dialects: &[Suppression::Arptables, Suppression::Nftables, Suppression::Sysctl],
    rules_service_before_network: false,
    default_tool: SuppressionTool::Arptables,
    nft_without_arp_address_match: Some("0.8"),
    // NetworkManager is RHEL 7's default; the network service is still shipped.
    network_stacks: &[NetworkStack::NetworkManager, NetworkStack::Initscripts],
    failover: Failover::Keepalived,
    ipv6_vips: true,
    ping6: "/bin/ping6",
    firewalld: true,
    keepalived_2: false,
    director_marks: MarkTool::Iptables,
};

const EL8: Profile = Profile {
    platform: Platform::El8,
    product: "RHEL 8",
    init: InitSystem::Systemd,
    dialects: &[Suppression::Nftables, Suppression::Sysctl],
    rules_service_before_network: false,
    default_tool: SuppressionTool::Nftables,
    nft_without_arp_address_match: None,
    // RHEL 8 still ships the network service, deprecated (network-scripts).
    network_stacks: &[NetworkStack::NetworkManager, NetworkStack::Initscripts],
    failover: Failover::Keepalived,
    ipv6_vips: true,
    ping6: "/bin/ping -6",
    firewalld: true,
    keepalived_2: true,
    director_marks: MarkTool::Nftables,
};

// RHEL 9 no longer ships the network service.
const EL9: Profile =
    Profile { platform: Platform::El9, product: "RHEL 9", network_stacks: &[NetworkStack::NetworkManager], ..EL8 };

// RHEL 10 (2025) drops iptables-nft's arptables and NetworkManager's ifcfg support: nftables
// and the kernel's switches, NetworkManager only. Its default stays el9's (nftables), so a
// host moved from el9 to el10 keeps its method.
const EL10: Profile = Profile { platform: Platform::El10, product: "RHEL 10", ..EL9 };

impl Platform {
    /// This release's row of the platform table.
    pub const fn profile(self) -> &'static Profile {
        match self {
            Platform::El4 => &EL4,
            Platform::El5 => &EL5,
            Platform::El6 => &EL6,
            Platform::El7 => &EL7,
            Platform::El8 => &EL8,
            Platform::El9 => &EL9,
            Platform::El10 => &EL10,
        }
    }
}

impl Profile {
    /// The dialect of `tool` on this release, or `None` when the release lacks the tool.
    pub fn suppression(&self, tool: SuppressionTool) -> Option<Suppression> {
        self.dialects.iter().copied().find(|d| d.tool() == tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_names_its_own_platform_and_has_its_default_tool() {
        for platform in Platform::ALL {
            let profile = platform.profile();
            assert_eq!(profile.platform, *platform);
            assert!(profile.suppression(profile.default_tool).is_some(), "{platform} lacks its default tool");
        }
    }
}
