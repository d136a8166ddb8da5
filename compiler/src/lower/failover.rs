//! Pass "failover": the directors' failover software (one family for all, as many
//! directors as it pairs), and the VRRP router id and priorities.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use super::checks::{DEFAULT_INTERVAL, DEFAULT_TIMEOUT};
use super::entry::Entry;
use super::hosts::Lowered;
use crate::codes::Code;
use crate::contract::Role;
use crate::diag::pointer;
use crate::diag::Diagnostic;
use crate::model::{limits, Director, Expect, Failover, HealthCheck, OnFailure, Ports, Probe, Service};
use crate::raw;

/// The failover family of the directors, or `None` when they cannot fail over to each other.
pub fn failover(
    found: &mut Vec<Diagnostic>,
    raw_directors: &[raw::Director],
    directors: &Lowered<Director>,
    services: &Lowered<Service>,
) -> Option<Failover> {
    let mut lowered = raw_directors.iter().zip(directors).map(|(raw, (d, path))| Some((raw, d.as_ref()?, path)));
    let Some(Some((_, primary, _))) = lowered.next() else { return None };
    let family = |d: &Director| d.platform.profile().failover;
    let failover = family(primary);
    let mut consistent = true;
    for (raw, director, path) in lowered.flatten() {
        if family(director) != failover {
            consistent = false;
            // Point at the director's own `platform` when it wrote one, else at its name.
            let key = if raw.platform.is_some() { "platform" } else { "name" };
            found.push(
                Diagnostic::new(
                    Code::MixedFailover,
                    path.key(key),
                    format!(
                        "{} runs {} ({}), but the primary {} runs {} ({})",
                        Role::Director.named(director.name.as_str()),
                        director.platform,
                        family(director),
                        primary.name,
                        primary.platform,
                        failover
                    ),
                )
                .hint("pulse ({on:piranha}) and keepalived ({on:keepalived}) cannot fail over to each other: give both directors platforms of one family"),
            );
        }
    }
    match failover {
        Failover::Piranha => {
            if let Some((_, path)) = directors.get(2) {
                found.push(
                    Diagnostic::new(
                        Code::TooManyDirectors,
                        path.path(),
                        format!(
                            "Piranha pairs a primary and one backup, but the cluster lists {} directors",
                            directors.len()
                        ),
                    )
                    .hint("keep two directors on {on:piranha}, or move the directors to {on:keepalived} (keepalived)"),
                );
                consistent = false;
            }
            for (service, path) in services {
                if let Some(service) = service.as_ref().filter(|s| s.vip.is_ipv6()) {
                    found.push(
                        Diagnostic::new(
                            Code::Ipv6Unavailable,
                            path.key("vip"),
                            format!("service {} has the IPv6 VIP {}, but Piranha has no IPv6", service.name, service.vip),
                        )
                        .hint(format!(
                            "keep the service on IPv4, or run the directors on {{on:keepalived}} (keepalived); the primary {} runs {}",
                            primary.name, primary.platform
                        )),
                    );
                    consistent = false;
                }
                if let Some(service) = service {
                    consistent &= piranha_can_express(found, service, *path);
                }
                if let Some(service) = service.as_ref().filter(|s| s.ports == Ports::One(0)) {
                    found.push(
                        Diagnostic::new(
                            Code::PiranhaAllPorts,
                            path.key("port"),
                            format!(
                                "service {} listens on all ports, which Piranha's nanny cannot health-check",
                                service.name
                            ),
                        )
                        .hint(format!(
                            "give the service its real port, or run the directors on {{on:keepalived}}; the primary {} runs {}",
                            primary.name, primary.platform
                        )),
                    );
                    consistent = false;
                }
            }
        }
        Failover::Keepalived => {
            if let Some(old) = lowered_directors(directors).find(|d| !d.platform.profile().keepalived_2) {
                for (service, path) in services {
                    if let Some(service) = service {
                        consistent &= keepalived_1_can_express(found, service, *path, old);
                    }
                }
            }
        }
    }
    consistent.then_some(failover)
}

/// Reports what of `service`'s director-side keys Piranha's lvs.cf cannot say; true when
/// it can say all of them. Nanny connects, or sends a request and matches the answer; its
/// timing is global (keepalive, deadtime) and it has no TLS, command, sorry server,
/// quorum or per-server check.
fn piranha_can_express(found: &mut Vec<Diagnostic>, service: &Service, entry: Entry) -> bool {
    let before = found.len();
    let check = &service.health_check;
    let mut refuse = |path: String, what: String| {
        found.push(
            Diagnostic::new(
                Code::PiranhaUnsupported,
                path,
                format!("service {} {what}, which Piranha's lvs.cf cannot express", service.name),
            )
            .hint("use a tcp or http check with lvsdr's timing on {on:piranha}, or run the directors on {on:keepalived} (keepalived)"),
        );
    };
    let at = |key: &str| pointer(&entry.key("health_check"), key);
    match &check.probe {
        Probe::Tcp { port } | Probe::Http { tls: false, port, .. } if Some(*port) != service.ports.check_port() => {
            refuse(at("port"), format!("checks port {port}, not its own"));
        }
        Probe::Http { tls: true, .. } => refuse(at("type"), "has an https check (nanny has no TLS)".to_owned()),
        Probe::Http { expect: Expect::Digest(_), .. } => refuse(at("digest"), "checks a digest".to_owned()),
        Probe::Command { .. } => refuse(at("type"), "has a command check".to_owned()),
        Probe::None => refuse(at("type"), "has no check (nanny always checks)".to_owned()),
        Probe::Tcp { .. } | Probe::Http { .. } | Probe::Ping => {}
    }
    if (check.interval, check.timeout, check.retries, check.retry_delay)
        != (DEFAULT_INTERVAL, DEFAULT_TIMEOUT, None, None)
    {
        refuse(
            at("interval"),
            "times its check itself (Piranha's timing is global: keepalive 6, deadtime 18)".to_owned(),
        );
    }
    if check.on_failure == OnFailure::Inhibit {
        refuse(at("on_failure"), "inhibits failed servers".to_owned());
    }
    for (j, member) in service.members.iter().enumerate() {
        if member.health_check.is_some() {
            refuse(
                pointer(&pointer(&entry.key("real_servers"), j), "health_check"),
                format!("checks {} its own way", Role::RealServer.named(member.server.as_str())),
            );
        }
    }
    if service.sorry_server.is_some() {
        refuse(entry.key("sorry_server"), "has a sorry server".to_owned());
    }
    if service.quorum.is_some() {
        refuse(entry.key("quorum"), "has a quorum".to_owned());
    }
    found.len() == before
}

fn lowered_directors(directors: &Lowered<Director>) -> impl Iterator<Item = &Director> {
    directors.iter().filter_map(|(d, _)| d.as_ref())
}

/// Reports what of `service`'s checks el7's keepalived 1.3.5 (on `director`) would drop;
/// true when it can say all of it.
fn keepalived_1_can_express(found: &mut Vec<Diagnostic>, service: &Service, entry: Entry, director: &Director) -> bool {
    let before = found.len();
    let mut refuse = |path: String, what: &str| {
        found.push(
            Diagnostic::new(
                Code::KeepalivedTooOld,
                path,
                format!(
                    "service {} {what}, which keepalived 1.3.5 on {} ({}) ignores",
                    service.name,
                    Role::Director.named(director.name.as_str()),
                    director.platform
                ),
            )
            .hint("drop the key while directors on {on:keepalived-1} run the service, or move the directors to {on:keepalived-2} (keepalived 2)"),
        );
    };
    let host = |check: &HealthCheck| match &check.probe {
        Probe::Http { host, .. } => host.clone(),
        Probe::Tcp { .. } | Probe::Command { .. } | Probe::Ping | Probe::None => None,
    };
    // A member's check is judged on what it changes: what it inherits is the service's.
    let mut judge = |check: &HealthCheck, at: String, inherited: Option<&HealthCheck>| {
        let tcp = matches!(check.probe, Probe::Tcp { .. });
        let retry = (check.retries, check.retry_delay);
        if !tcp && retry != (None, None) && inherited.is_none_or(|s| (s.retries, s.retry_delay) != retry) {
            refuse(
                pointer(&at, if check.retries.is_some() { "retries" } else { "retry_delay" }),
                "retries a check other than tcp",
            );
        }
        if host(check).is_some() && inherited.is_none_or(|s| host(s) != host(check)) {
            refuse(pointer(&at, "host"), "sends a Host header");
        }
        if inherited.is_some_and(|s| s.interval != check.interval) {
            refuse(pointer(&at, "interval"), "checks a real server at its own interval");
        }
    };
    judge(&service.health_check, entry.key("health_check"), None);
    for (j, member) in service.members.iter().enumerate() {
        if let Some(check) = &member.health_check {
            judge(check, pointer(&pointer(&entry.key("real_servers"), j), "health_check"), Some(&service.health_check));
        }
    }
    found.len() == before
}

/// The VRRP virtual router id: the manifest's, or one derived from the cluster name.
pub fn vrrp_router_id(found: &mut Vec<Diagnostic>, id: Option<i64>, cluster: &str, path: &str) -> Option<u8> {
    let Some(id) = id else { return Some(derived_router_id(cluster)) };
    let range = limits::VRRP_ROUTER_ID_MIN..=limits::VRRP_ROUTER_ID_MAX;
    let valid = u8::try_from(id).ok().filter(|_| range.contains(&id));
    if valid.is_none() {
        found.push(
            Diagnostic::new(Code::VrrpRouterIdOutOfRange, path, format!("the VRRP router id {id} is outside 1-255"))
                .hint("write a number from 1 to 255 that no other VRRP router on the segment uses"),
        );
    }
    valid
}

/// The default VRRP virtual router id: FNV-1a of the cluster name folded into 1–255, so that
/// it is stable across releases and machines (documented in docs/guide.md and docs/manifest.md).
pub fn derived_router_id(cluster: &str) -> u8 {
    let hash = cluster.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    (hash % 255 + 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_ids_are_stable_and_in_range() {
        // The published derivation: changing it would move every keepalived cluster's VRRP id.
        assert_eq!(derived_router_id("web-prod"), 26);
        for name in ["a", "web-prod", "shop", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"] {
            assert!((1..=255).contains(&derived_router_id(name)));
        }
    }
}
