//! Validate and lower: every semantic rule of the manifest, collecting all diagnostics,
//! and the typed `model::Cluster` when there are no errors.
//!
//! Lowering runs in passes, each a module with explicit inputs and outputs:
//! `hosts` (names, addresses, interfaces, platforms, dialects; the address book) →
//! `services` (VIPs against the address book, keywords, members) → `segment` (one L2
//! segment) → `failover` (one family, router id) → `vips` (each host's VIPs, and alias
//! labels where the host's configuration names VIPs by label). `address` and `values` are the pure parts they share;
//! `ids` the typed positions the passes hand each other (`ServerId`, `ServiceId`,
//! `Membership`, `Listed`).
//!
//! Every check is linear in the manifest's size: lookups go through hash maps, and the
//! only product is directors × real servers (a cluster has one or two directors).

mod address;
mod checks;
mod entry;
mod failover;
mod hosts;
mod ids;
mod ports;
mod segment;
mod services;
mod values;
mod vips;
mod vrrp;

use crate::codes::Code;
use crate::diag::{has_errors, Diagnostic};
use crate::model::{Cluster, Interface, NetworkStack, Platform};
use crate::raw;
use entry::At;

const DEFAULT_PLATFORM: Platform = Platform::El7;
const DEFAULT_INTERFACE: &str = "eth0";

/// Lowers a structurally sound manifest: the cluster (none when any diagnostic is an error)
/// and the diagnostics. The raw manifest is taken whole so that its services and real
/// servers can go as soon as they are lowered, before the largest part of the model (each
/// real server's VIPs) is built: a large manifest's raw form never sits beside all of it.
pub fn lower(m: raw::Manifest) -> (Option<Cluster>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let cluster = cluster(&mut found, m);
    if has_errors(&found) {
        (None, found)
    } else {
        (cluster, found)
    }
}

fn cluster(found: &mut Vec<Diagnostic>, mut m: raw::Manifest) -> Option<Cluster> {
    if m.version != 1 {
        found.push(
            Diagnostic::new(
                Code::UnsupportedVersion,
                "/version",
                format!("manifest version {} is not supported", m.version),
            )
            .hint("this lvsdr reads version 1: write \"version\": 1"),
        );
    }
    let name = values::name(found, &m.cluster, At::Top("/cluster"), "the cluster");
    let defaults = hosts::HostDefaults {
        platform: match &m.defaults.platform {
            Some(text) => values::platform(found, text, At::Top("/defaults/platform")),
            None => Some(DEFAULT_PLATFORM),
        },
        interface: match &m.defaults.interface {
            Some(text) => values::interface(found, text, At::Top("/defaults/interface")),
            None => Interface::parse(DEFAULT_INTERFACE),
        },
        network_stack: match &m.defaults.network_stack {
            Some(text) => match NetworkStack::parse(text) {
                Some(stack) => Some(Some(stack)),
                None => {
                    let names = NetworkStack::names();
                    found.push(values::enum_error(
                        Code::UnknownNetworkStack,
                        "/defaults/network_stack",
                        "network stack",
                        text,
                        &names,
                    ));
                    None
                }
            },
            None => Some(None),
        },
    };

    let hosts = hosts::hosts(found, &m, &defaults);
    let services::Services { services, memberships, listed, ipv6 } =
        services::services(found, &m.services, &m.real_servers, &hosts.real_servers, &hosts.addresses);
    segment::one_segment(found, &hosts.directors, &services, &hosts.real_servers, ipv6);
    let failover = failover::failover(found, &m.directors, &hosts.directors, &services);
    // The primary's family says whether the VRRP keys mean anything, even when the
    // directors disagree (E0033 is reported already).
    let family = hosts.directors.first().and_then(|(d, _)| d.as_ref()).map(|d| d.platform.profile().failover);
    let vrrp = vrrp::vrrp(found, &m, failover.or(family), m.directors.len(), ipv6);
    // The raw services and servers are done with.
    drop(std::mem::take(&mut m.services));
    drop(std::mem::take(&mut m.real_servers));
    let real_servers = vips::attach_to_real_servers(found, &services, hosts.real_servers, memberships, &listed);
    let directors = vips::attach_to_directors(found, &services, hosts.directors, failover);

    Some(Cluster {
        name: name?,
        directors: directors?,
        failover: failover?,
        vrrp: vrrp?,
        services: services.into_iter().map(|(s, _)| s).collect::<Option<_>>()?,
        real_servers,
    })
}

/// The text in double quotes, with everything but printable ASCII escaped, so that a
/// look-alike letter or an invisible character shows as `\u{430}` rather than hiding.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.escape_default())
}
