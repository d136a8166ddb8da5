//! Pass "segment": direct routing needs every director on one L2 segment with every real
//! server a service forwards to, in each address family the services use (`ipv6`: some
//! service has an IPv6 VIP).

use super::hosts::Lowered;
use crate::codes::Code;
use crate::contract::Role;
use crate::diag::Diagnostic;
use crate::model::{Director, RealServer, Service};
use rustc_hash::FxHashSet as HashSet;

pub fn one_segment(
    found: &mut Vec<Diagnostic>,
    directors: &Lowered<Director>,
    services: &Lowered<Service>,
    real_servers: &Lowered<RealServer>,
    ipv6: bool,
) {
    let mut in_service: HashSet<&str> = HashSet::default();
    let mut in_service6: HashSet<&str> = HashSet::default();
    for service in services.iter().filter_map(|(s, _)| s.as_ref()) {
        let names = if service.vip.is_ipv6() { &mut in_service6 } else { &mut in_service };
        names.extend(service.members.iter().map(|m| m.server.as_str()));
        // The sorry server answers from the VIP too: it must share the segment.
        names.extend(service.sorry_server.iter().map(|s| s.server.as_str()));
    }
    if ipv6 {
        // IPVS forwards an IPv6 VIP's packets over the director's own IPv6 route.
        for (director, path) in directors {
            let Some(director) = director.as_ref().filter(|d| d.address6.is_none()) else { continue };
            found.push(
                Diagnostic::new(
                    Code::MissingAddress6,
                    path.key("name"),
                    format!(
                        "{} has no address6, but the cluster has IPv6 VIPs it must hold and forward",
                        Role::Director.named(director.name.as_str())
                    ),
                )
                .hint("add the director's IPv6 address on the segment, e.g. \"address6\": \"2001:db8:10::2/64\""),
            );
        }
    }
    for (server, server_path) in real_servers {
        let Some(server) = server else { continue };
        let name = server.name.as_str();
        for director in directors.iter().filter_map(|(d, _)| d.as_ref()) {
            if in_service.contains(name) {
                let (d, r) = (director.address, server.address);
                if !(d.contains(&r.addr()) && r.contains(&d.addr())) {
                    found.push(apart(server_path.key("address"), name, &r, director, &d));
                }
            }
            if let (true, Some(r), Some(d)) = (in_service6.contains(name), server.address6, director.address6) {
                if !(d.contains(&r.addr()) && r.contains(&d.addr())) {
                    found.push(apart(server_path.key("address6"), name, &r, director, &d));
                }
            }
        }
    }
}

/// Real server `server` (at `r`) and `director` (at `d`) are on different subnets.
fn apart(
    path: String,
    server: &str,
    r: &impl std::fmt::Display,
    director: &Director,
    d: &impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::NotOneSegment,
        path,
        format!(
            "{} ({r}) and {} ({d}) do not share a subnet, so the director cannot forward to it by MAC",
            Role::RealServer.named(server),
            Role::Director.named(director.name.as_str())
        ),
    )
    .hint("direct routing needs one L2 segment: check the address and prefix of both")
}
