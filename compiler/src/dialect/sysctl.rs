//! The sysctl dialect (every release: the switches exist since Linux 2.6.4): no rules at
//! all, the kernel's own switches on the service interface — `arp_ignore` 1 (answer ARP
//! only for addresses of the interface it came in on) and `arp_announce` 2 (send ARP from
//! the address of the target's subnet) — with the VIPs on `lo`, where no ARP is answered
//! for them. The switches are runtime state of the vips script: `vips load` sets them
//! (before the network, before any VIP) and keeps the values it found, `vips unload` puts
//! those back. No file under /etc/sysctl.d: a file there would set them again at the next
//! boot after a tree that no longer uses them had put them back.

use super::{Dialect, DialectArtifact, Ipv6Lock, Loader, ServerView, VipDevice};
use askama::Template;

pub struct Sysctl;

#[derive(Template)]
#[template(path = "dialect/sysctl-runtime.sh")]
struct Runtime;

impl Dialect for Sysctl {
    fn artifacts(&self) -> &'static [DialectArtifact] {
        &[]
    }

    fn render_runtime(&self, _view: &ServerView<'_>) -> askama::Result<String> {
        Runtime.render()
    }

    fn loader(&self) -> Loader {
        Loader::Vips
    }

    /// Linux answers ARP for any local address on any interface unless `arp_ignore` says
    /// otherwise: with 1 on the service interface, an address on `lo` is never answered there.
    fn vip_device(&self) -> VipDevice {
        VipDevice::Loopback
    }

    /// The VIPs on `lo`, as its IPv4 VIPs, with no switch needed: Linux answers a
    /// solicitation only for an address of the interface it arrived on.
    fn ipv6_lock(&self) -> Ipv6Lock {
        Ipv6Lock::Loopback
    }
}
