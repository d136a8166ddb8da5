//! Pass "segment": direct routing needs every director on one L2 segment with every real
//! server a service forwards to.

use super::hosts::Lowered;
use crate::codes::Code;
use crate::diag::Diagnostic;
use crate::model::{Director, RealServer, Service};
use rustc_hash::FxHashSet as HashSet;

pub fn one_segment(
    found: &mut Vec<Diagnostic>,
    directors: &Lowered<Director>,
    services: &Lowered<Service>,
    real_servers: &Lowered<RealServer>,
) {
    let in_service: HashSet<&str> = services
        .iter()
        .filter_map(|(s, _)| s.as_ref())
        .flat_map(|s| s.members.iter().map(|m| m.server.as_str()))
        .collect();
    for (server, server_path) in real_servers {
        let Some(server) = server else { continue };
        if !in_service.contains(server.name.as_str()) {
            continue;
        }
        for director in directors.iter().filter_map(|(d, _)| d.as_ref()) {
            let (d, r) = (director.address, server.address);
            if !(d.contains(&r.addr()) && r.contains(&d.addr())) {
                found.push(
                    Diagnostic::new(
                        Code::NotOneSegment,
                        server_path.key("address"),
                        format!(
                            "real server {} ({r}) and director {} ({d}) do not share a subnet, so the director cannot forward to it by MAC",
                            server.name.as_str(),
                            director.name.as_str()
                        ),
                    )
                    .hint("direct routing needs one L2 segment: check the address and prefix of both"),
                );
            }
        }
    }
}
