//! Emit: the text of each planned artifact, rendered from its template in `templates/`:
//! `server` for real servers (their dialect's artifacts and check come from the dialect's
//! module), `director` for directors.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

mod director;
mod server;

use crate::model::Cluster;
use crate::plan::HostPlan;

/// Renders the artifact at `position` of a host's plan. Every artifact ends with exactly
/// one line feed.
pub fn emit(cluster: &Cluster, plan: &HostPlan<'_>, position: usize) -> String {
    let rendered = match plan {
        HostPlan::RealServer(host, artifacts) => server::emit_server(cluster, host, &artifacts[position].artifact),
        HostPlan::Director(host, artifacts) => director::emit_director(cluster, host, &artifacts[position].artifact),
    };
    // Rendering plain text into a String cannot fail: the templates call no fallible
    // filter, and the planner plans only what its host can render.
    let mut text = rendered.expect("rendering a planned artifact of a validated model cannot fail");
    // askama drops each template's final newline; files end with exactly one. Room for
    // exactly one more byte: a full buffer would otherwise double (a director's config
    // can be tens of MB).
    text.reserve_exact(1);
    text.push('\n');
    text
}
