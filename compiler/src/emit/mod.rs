//! Emit: the text of each planned artifact, rendered from its template in `templates/`:
//! `server` for real servers (their dialect's artifacts and check come from the dialect's
//! module), `director` for directors.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

mod director;
mod server;

use crate::model::Cluster;
use crate::plan::HostPlan;
use std::fmt;

/// Writes the artifact at `position` of a host's plan into `out`, ending with exactly one
/// line feed. A director's files are written as they are rendered (tens of MB for a large
/// cluster), so that no copy of them is ever whole in memory; a real server's are small.
/// Fails only when `out` does.
pub fn emit_into<W: fmt::Write>(cluster: &Cluster, plan: &HostPlan<'_>, position: usize, out: &mut W) -> fmt::Result {
    let rendered = match plan {
        HostPlan::RealServer(host, artifacts) => server::emit_server(cluster, host, &artifacts[position].artifact)
            .and_then(|text| out.write_str(&text).map_err(askama::Error::from)),
        HostPlan::Director(host, artifacts) => {
            director::emit_director(cluster, host, &artifacts[position].artifact, out)
        }
    };
    if let Err(error) = rendered {
        // The templates call no fallible filter, and the planner plans only what its host
        // can render: the one error left is the writer's own.
        assert!(matches!(error, askama::Error::Fmt), "rendering a planned artifact failed: {error}");
        return Err(fmt::Error);
    }
    // askama drops each template's final newline; files end with exactly one.
    out.write_char('\n')
}

/// The artifact at `position` of a host's plan, as text.
pub fn emit(cluster: &Cluster, plan: &HostPlan<'_>, position: usize) -> String {
    let mut text = String::new();
    emit_into(cluster, plan, position, &mut text).expect("writing into a String cannot fail");
    text
}
