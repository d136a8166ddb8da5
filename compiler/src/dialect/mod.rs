//! ARP-suppression dialects: one module each, behind one trait (netavark's firewall
//! drivers are the model). A dialect owns its artifacts and their templates, the rc.local
//! block's check that recognises exactly its rules, and how its rules are loaded.
//!
//! `dialect()` matches every `Suppression` variant: a new dialect is a module here, its
//! templates under `templates/dialect/`, a variant, and the platforms that have it in
//! `platform.rs`.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

mod arptables;
mod arptables_jf;
mod nftables;

use crate::contract::{InstallKind as Install, Step};
use crate::model::{RealServer, Suppression};
use std::net::Ipv4Addr;

/// What a dialect's templates are rendered from.
pub struct ServerView<'a> {
    pub cluster: &'a str,
    pub server: &'a RealServer,
    pub real_ip: Ipv4Addr,
}

/// One artifact a dialect gives every real server that uses it.
pub struct DialectArtifact {
    /// Its kind in index.json (also its id: a host has one of each).
    pub kind: &'static str,
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

    /// The vips script's `lvsdr_protected VIP` shell function: exits 0 exactly when
    /// this dialect's own rules for VIP are loaded (drop as ARP target on input, rewrite as
    /// ARP sender on output), so a wrong-but-plausible rule never counts.
    fn render_check(&self, view: &ServerView<'_>) -> askama::Result<String>;

    /// The command whose listing the check reads; the VIPs stay down when it is missing.
    fn tool(&self) -> &'static str;

    /// How the rules get loaded, at boot and on a change.
    fn loader(&self, server: &RealServer) -> Loader;
}

/// How a dialect's rules are loaded.
pub enum Loader {
    /// The platform's own service restores the rules file at boot; `restart` reloads it
    /// (flushing first, so not atomically).
    Service { name: &'static str },
    /// Commands of lvsdr's own (`lvsdr-arp.service` on systemd): `load` installs the rules
    /// file, replacing all of lvsdr's rules at once when `atomic`; `unload` removes lvsdr's
    /// rules and nothing else.
    Commands { load: Vec<Step>, unload: Vec<Step>, atomic: bool },
}

/// The module of `suppression`.
pub fn dialect(suppression: Suppression) -> &'static dyn Dialect {
    match suppression {
        Suppression::ArptablesJf => &arptables_jf::ArptablesJf,
        Suppression::Arptables => &arptables::Arptables,
        Suppression::Nftables => &nftables::Nftables,
    }
}
