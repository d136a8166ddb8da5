//! ARP-suppression dialects: one module each, behind one trait (netavark's firewall
//! drivers are the model). A dialect owns its artifacts and their templates, the rc.local
//! block's check that recognises exactly its rules, and how its rules are loaded.
//!
//! `dialect()` matches every `Suppression` variant: a new dialect is a module here, its
//! templates under `templates/dialect/`, a variant, and the platforms that have it in
//! `platform.rs`. The trait has no default methods: a new dialect answers every question,
//! where its VIPs live included.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

mod arptables;
mod arptables_jf;
mod nftables;
mod sysctl;

use crate::contract::{ArtifactKind, InstallKind as Install};
use crate::model::{RealServer, Suppression};
use std::net::{Ipv4Addr, Ipv6Addr};

/// What a dialect's templates are rendered from.
pub struct ServerView<'a> {
    pub cluster: &'a str,
    pub server: &'a RealServer,
    pub real_ip: Ipv4Addr,
    /// Its `address6`, when it has one.
    pub real_ip6: Option<Ipv6Addr>,
}

/// One artifact a dialect gives every real server that uses it.
pub struct DialectArtifact {
    /// Its kind in index.json (also its id: a host has one of each).
    pub kind: ArtifactKind,
    pub install_path: &'static str,
    pub install: Install,
    pub mode: u32,
    /// What makes it take effect at boot, for people.
    pub activate: &'static str,
    pub render: fn(&ServerView<'_>) -> askama::Result<String>,
}

/// An ARP-suppression dialect.
pub trait Dialect: Sync {
    /// Its artifacts, the rules file first.
    fn artifacts(&self) -> &'static [DialectArtifact];

    /// The vips script's part of this dialect (`templates/dialect/*-runtime.sh`): the
    /// command that lists the rules (`LVSDR_TOOL`, `lvsdr_rules_listing`), the filter that
    /// prints the VIPs whose own two rules are loaded (drop as ARP target on input, rewrite
    /// as ARP sender on output: a wrong-but-plausible rule never counts), loading the rules
    /// without a moment in which a VIP that stays lacks them, removing lvsdr's rules only,
    /// and the source of change events the guard waits on (with its poll in ticks).
    fn render_runtime(&self, view: &ServerView<'_>) -> askama::Result<String>;

    /// How the rules get loaded at boot. On a change every dialect loads through the
    /// vips script (`vips load`), which never leaves a VIP that stays without its rules.
    fn loader(&self) -> Loader;

    /// Where the VIPs live. Lowering labels them there, the vips script adds them there,
    /// index.json records it (`vip_device`); ARP still arrives on the service interface,
    /// whose device the units are bound to either way.
    fn vip_device(&self) -> VipDevice;

    /// What keeps the server's Neighbour Discovery from answering for an IPv6 VIP, if
    /// anything does: lowering refuses an IPv6 VIP to a server whose dialect has nothing.
    fn ipv6_lock(&self) -> Ipv6Lock;
}

/// What keeps a real server from answering Neighbour Discovery for its IPv6 VIPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Lock {
    /// lvsdr's table `ip6 lvsdr`: solicitations for a VIP dropped on input, advertisements
    /// of it dropped and solicitations from it rewritten on output.
    Rules,
    /// The VIP on `lo`: Linux answers a solicitation only for an address of the interface
    /// it arrived on.
    Loopback,
    /// The dialect sees ARP only.
    None,
}

/// The device a dialect puts the VIPs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VipDevice {
    /// The service interface itself, where lvsdr's rules drop ARP for them.
    ServiceInterface,
    /// The loopback device, behind the service interface's `arp_ignore`.
    Loopback,
}

/// Who loads a dialect's rules at boot.
pub enum Loader {
    /// The platform's own service restores the rules file (arptables_jf's init script).
    Service { name: &'static str },
    /// lvsdr itself: `vips load`, from `lvsdr-arp.service` on systemd or the rc.local
    /// block on SysV.
    Vips,
}

/// The module of `suppression`.
pub fn dialect(suppression: Suppression) -> &'static dyn Dialect {
    match suppression {
        Suppression::ArptablesJf => &arptables_jf::ArptablesJf,
        Suppression::Arptables => &arptables::Arptables,
        Suppression::Nftables => &nftables::Nftables,
        Suppression::Sysctl => &sysctl::Sysctl,
    }
}
