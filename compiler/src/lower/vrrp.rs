//! Pass "vrrp": how the keepalived directors elect the one that holds the VIPs — router
//! id (and the ids already in use on the segment), advertisement interval, unicast,
//! preemption, tracked interfaces and the notify script.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use super::failover::vrrp_router_id;
use super::quoted;
use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::model::limits::{ADVERT_INT_MAX, PREEMPT_DELAY_MAX};
use crate::model::{Failover, Interface, Preempt, ScriptPath, Vrrp};
use crate::raw;

/// The cluster's VRRP settings; `failover` is the directors' family once known, and
/// `directors` how many the manifest lists; `ipv6` whether a service has an IPv6 VIP.
pub fn vrrp(
    found: &mut Vec<Diagnostic>,
    m: &raw::Manifest,
    failover: Option<Failover>,
    directors: usize,
    ipv6: bool,
) -> Option<Vrrp> {
    let empty = raw::Vrrp::default();
    let v = m.vrrp.as_ref().unwrap_or(&empty);
    let id = match (m.vrrp_router_id, v.router_id) {
        (Some(_), Some(_)) => {
            found.push(
                Diagnostic::new(
                    Code::VrrpInvalid,
                    "/vrrp/router_id",
                    "the router id is given twice, as vrrp_router_id and vrrp.router_id",
                )
                .hint("keep vrrp.router_id and remove the top-level vrrp_router_id"),
            );
            None
        }
        (Some(id), None) => vrrp_router_id(found, Some(id), &m.cluster, "/vrrp_router_id"),
        (None, id) => vrrp_router_id(found, id, &m.cluster, "/vrrp/router_id"),
    };
    for (i, &used) in v.router_ids_in_use.iter().flatten().enumerate() {
        if !(1..=255).contains(&used) {
            found.push(
                Diagnostic::new(
                    Code::VrrpValueOutOfRange,
                    pointer("/vrrp/router_ids_in_use", i),
                    format!("vrrp.router_ids_in_use lists {used}, outside 1-255"),
                )
                .hint("VRRP router ids are 1-255"),
            );
        }
    }
    if let (Some(id), Some(in_use)) = (id, &v.router_ids_in_use) {
        if let Some(at) = in_use.iter().position(|&used| used == i64::from(id)) {
            let derived = m.vrrp_router_id.is_none() && v.router_id.is_none();
            let free = (1..=255u8).find(|n| !in_use.contains(&i64::from(*n)));
            found.push(
                Diagnostic::new(
                    Code::VrrpRouterIdInUse,
                    pointer("/vrrp/router_ids_in_use", at),
                    format!(
                        "the cluster's VRRP router id {id}{} is already in use on the segment",
                        if derived { " (derived from the cluster name)" } else { "" }
                    ),
                )
                .hint(match free {
                    Some(free) => format!("give the cluster an unused id: \"vrrp\": {{ \"router_id\": {free} }}"),
                    None => "every id 1-255 is listed: a segment holds at most 255 VRRP routers".to_owned(),
                }),
            );
        }
    }
    let mut valid = true;
    let mut invalid = |found: &mut Vec<Diagnostic>, code: Code, key: &str, message: String, hint: &str| {
        valid = false;
        found.push(Diagnostic::new(code, pointer("/vrrp", key), message).hint(hint));
    };
    let advert_int = match v.advert_int {
        None => 1,
        Some(n) => {
            u8::try_from(n).ok().filter(|n| (1..=ADVERT_INT_MAX).contains(&i64::from(*n))).unwrap_or_else(|| {
                invalid(
                    found,
                    Code::VrrpValueOutOfRange,
                    "advert_int",
                    format!("vrrp.advert_int {n} is outside 1-{ADVERT_INT_MAX} seconds"),
                    "1 is keepalived's default: a backup takes over about 3 intervals after the master goes",
                );
                1
            })
        }
    };
    // VRRP version 3 carries the interval in centiseconds in 12 bits: keepalived caps an
    // IPv6 instance's at 40.95 s, and warns.
    if ipv6 && advert_int > 40 {
        invalid(
            found,
            Code::VrrpInvalid,
            "advert_int",
            format!(
                "vrrp.advert_int {advert_int} is over 40 seconds, which the IPv6 VIPs' VRRP version 3 cannot carry"
            ),
            "an advert_int from 1 to 40 when a service has an IPv6 VIP",
        );
    }
    let preempt = match (v.preempt.unwrap_or(true), v.preempt_delay) {
        (true, None) => Preempt::AtOnce,
        (true, Some(delay)) => {
            match u16::try_from(delay).ok().filter(|d| (1..=PREEMPT_DELAY_MAX).contains(&i64::from(*d))) {
                Some(delay) => Preempt::After(delay),
                None => {
                    invalid(
                        found,
                        Code::VrrpValueOutOfRange,
                        "preempt_delay",
                        format!("vrrp.preempt_delay {delay} is outside 1-{PREEMPT_DELAY_MAX} seconds"),
                        "the seconds a returning primary waits before it takes the VIPs back",
                    );
                    Preempt::AtOnce
                }
            }
        }
        (false, None) => Preempt::Never,
        (false, Some(_)) => {
            invalid(
                found,
                Code::VrrpInvalid,
                "preempt_delay",
                "vrrp.preempt_delay is given, but vrrp.preempt is false".to_owned(),
                "a delay applies to preemption: keep \"preempt\": true, or remove the delay",
            );
            Preempt::Never
        }
    };
    let unicast = v.unicast.unwrap_or(false);
    if unicast && directors < 2 {
        invalid(
            found,
            Code::VrrpInvalid,
            "unicast",
            "vrrp.unicast is true, but the cluster has one director: it has no peer".to_owned(),
            "add the backup director, or leave unicast off",
        );
    }
    let mut track_interfaces = Vec::new();
    for (i, text) in v.track_interfaces.iter().flatten().enumerate() {
        match Interface::parse(text) {
            Some(interface) if !track_interfaces.contains(&interface) => track_interfaces.push(interface),
            Some(_) => invalid(
                found,
                Code::VrrpInvalid,
                &format!("track_interfaces/{i}"),
                format!("vrrp.track_interfaces lists {} twice", quoted(text)),
                "list each interface once",
            ),
            None => invalid(
                found,
                Code::InvalidInterface,
                &format!("track_interfaces/{i}"),
                format!("vrrp.track_interfaces has the invalid interface name {}", quoted(text)),
                "an interface name is 1-15 of A-Z, a-z, 0-9, '_', '.', '-'",
            ),
        }
    }
    let notify = match &v.notify {
        None => None,
        Some(text) => ScriptPath::parse(text).or_else(|| {
            invalid(found, Code::VrrpValueOutOfRange, "notify", format!("vrrp.notify {} is not an absolute path of plain characters", quoted(text)), "keepalived runs it as root with its arguments: give the script's absolute path, such as /usr/local/sbin/lvs-notify");
            None
        }),
    };
    // Piranha's pulse has its own heartbeat: only the router id (unused) means anything there.
    match failover {
        Some(Failover::Piranha) => {
            let set = [
                ("advert_int", v.advert_int.is_some()),
                ("unicast", v.unicast.is_some()),
                ("preempt", v.preempt.is_some()),
                ("preempt_delay", v.preempt_delay.is_some()),
                ("track_interfaces", v.track_interfaces.is_some()),
                ("notify", v.notify.is_some()),
            ];
            for (key, _) in set.iter().filter(|(_, present)| *present) {
                valid = false;
                found.push(
                    Diagnostic::new(
                        Code::PiranhaUnsupported,
                        pointer("/vrrp", key),
                        format!("vrrp.{key} is keepalived's, but the directors run Piranha, whose pulse has no VRRP"),
                    )
                    .hint("remove the key on {on:piranha} (pulse's heartbeat fails over), or run the directors on {on:keepalived}"),
                );
            }
        }
        Some(Failover::Keepalived) | None => {}
    }
    let router_id = id?;
    valid.then_some(Vrrp { router_id, advert_int, unicast, preempt, track_interfaces, notify })
}
