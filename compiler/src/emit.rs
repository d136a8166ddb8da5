//! Emit: the text of each planned artifact, rendered from its template in `templates/`.

use crate::model::{Cluster, RealServer, ServedVip, Suppression};
use crate::plan::{ArtifactKind, PlannedArtifact, NFT_SCRIPT_PATH};
use askama::Template;
use std::net::Ipv4Addr;

#[derive(Template)]
#[template(path = "arptables_jf.save")]
struct ArptablesJf<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

#[derive(Template)]
#[template(path = "arptables.save")]
struct Arptables<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

#[derive(Template)]
#[template(path = "lvsdr.nft")]
struct Nftables<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    real_ip: Ipv4Addr,
}

#[derive(Template)]
#[template(path = "nftables-include.conf")]
struct NftablesInclude<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    script_path: &'a str,
}

#[derive(Template)]
#[template(path = "ifcfg-alias.ifcfg")]
struct IfcfgAlias<'a> {
    cluster: &'a str,
    server: &'a RealServer,
    vip: &'a ServedVip,
}

#[derive(Template)]
#[template(path = "rc.local.sh")]
struct RcLocal<'a> {
    cluster: &'a str,
    server: &'a RealServer,
}

/// Renders one artifact. Every artifact ends with exactly one line feed.
pub fn emit(cluster: &Cluster, server: &RealServer, artifact: &PlannedArtifact<'_>) -> String {
    let cluster = cluster.name.as_str();
    let real_ip = server.address.addr();
    let rendered = match artifact.kind {
        ArtifactKind::ArptablesJf => ArptablesJf { cluster, server, real_ip }.render(),
        ArtifactKind::Arptables => Arptables { cluster, server, real_ip }.render(),
        ArtifactKind::Nftables => Nftables { cluster, server, real_ip }.render(),
        ArtifactKind::NftablesInclude => NftablesInclude { cluster, server, script_path: NFT_SCRIPT_PATH }.render(),
        ArtifactKind::IfcfgAlias => {
            let vip = artifact.vip.expect("the planner gives every alias file its VIP");
            IfcfgAlias { cluster, server, vip }.render()
        }
        ArtifactKind::RcLocal => RcLocal { cluster, server }.render(),
    };
    // Rendering plain text into a String cannot fail: the templates call no fallible filter.
    let mut text = rendered.expect("rendering a validated model into a String cannot fail");
    // askama drops each template's final newline; files end with exactly one.
    text.push('\n');
    text
}
