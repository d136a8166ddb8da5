//! Plan: which artifacts each host (real server or director) gets, in which dialect,
//! installed where and how.

use crate::model::{Cluster, Director, Failover, Name, Platform, RealServer, ServedVip, Suppression};

/// The kinds of artifact, one template each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// arptables_jf save file (el4–el6).
    ArptablesJf,
    /// arptables 0.0.4/0.0.5 save file (el7).
    Arptables,
    /// nftables script for table `arp lvsdr`.
    Nftables,
    /// The block that makes `/etc/sysconfig/nftables.conf` include the script.
    NftablesInclude,
    /// One RHEL ifcfg alias file for one VIP.
    IfcfgAlias,
    /// The block to merge into `/etc/rc.d/rc.local`.
    RcLocal,
    /// A director's IPVS table in `ipvsadm-save -n` form.
    Ipvsadm,
    /// A director's Piranha configuration (el4–el6).
    PiranhaLvsCf,
    /// A director's keepalived configuration (el7+).
    Keepalived,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::ArptablesJf => "arptables_jf",
            ArtifactKind::Arptables => "arptables",
            ArtifactKind::Nftables => "nftables",
            ArtifactKind::NftablesInclude => "nftables-include",
            ArtifactKind::IfcfgAlias => "ifcfg-alias",
            ArtifactKind::RcLocal => "rc-local",
            ArtifactKind::Ipvsadm => "ipvsadm",
            ArtifactKind::PiranhaLvsCf => "lvs.cf",
            ArtifactKind::Keepalived => "keepalived",
        }
    }
}

/// How an artifact goes onto the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// The whole file at its install path.
    File,
    /// A `# BEGIN lvsdr <cluster>` … `# END` block merged into an existing file.
    Block,
}

/// File modes; the writer sets them exactly, whatever the umask.
pub const RULES_MODE: u32 = 0o600;
pub const SCRIPT_MODE: u32 = 0o755;
pub const CONFIG_MODE: u32 = 0o644;

/// One artifact to emit for one server.
#[derive(Debug)]
pub struct PlannedArtifact<'c> {
    /// Unique per server: the kind, or `ifcfg-<label>` for alias files.
    pub id: String,
    pub kind: ArtifactKind,
    /// Absolute path of the file on the server.
    pub install_path: String,
    pub install: Install,
    pub mode: u32,
    /// What makes it take effect at boot.
    pub activate: String,
    /// The VIP an alias file is for.
    pub vip: Option<&'c ServedVip>,
}

impl PlannedArtifact<'_> {
    /// Path inside the output tree, relative to the tree's root: under the host's directory.
    pub fn tree_path(&self, host: &Name) -> String {
        let relative = self.install_path.trim_start_matches('/');
        match self.install {
            Install::File => format!("{host}/{relative}"),
            Install::Block => format!("{host}/fragments/{relative}"),
        }
    }
}

/// A host of the cluster: what its artifacts are rendered for.
#[derive(Debug, Clone, Copy)]
pub enum Host<'c> {
    RealServer(&'c RealServer),
    Director(&'c Director),
}

impl<'c> Host<'c> {
    pub fn name(self) -> &'c Name {
        match self {
            Host::RealServer(server) => &server.name,
            Host::Director(director) => &director.name,
        }
    }

    /// "real server" or "director", for messages.
    pub fn role(self) -> &'static str {
        match self {
            Host::RealServer(_) => "real server",
            Host::Director(_) => "director",
        }
    }
}

/// A host and its artifacts, in a fixed order.
pub struct HostPlan<'c> {
    pub host: Host<'c>,
    pub artifacts: Vec<PlannedArtifact<'c>>,
}

pub const NFT_SCRIPT_PATH: &str = "/etc/nftables/lvsdr.nft";

/// Plans every host of the cluster: the directors in manifest order, then the real servers
/// in name order.
pub fn plan(cluster: &Cluster) -> Vec<HostPlan<'_>> {
    let directors = cluster.directors.iter().map(|d| plan_director(cluster, d));
    directors.chain(cluster.real_servers.iter().map(plan_server)).collect()
}

/// A whole file, installed at `install_path`, with the kind as its id.
fn file<'c>(kind: ArtifactKind, install_path: &str, mode: u32, activate: String) -> PlannedArtifact<'c> {
    PlannedArtifact {
        id: kind.as_str().to_owned(),
        kind,
        install_path: install_path.to_owned(),
        install: Install::File,
        mode,
        activate,
        vip: None,
    }
}

fn plan_director<'c>(cluster: &Cluster, director: &'c Director) -> HostPlan<'c> {
    // The validator gives every director the same failover family, so it comes from the cluster.
    let (kind, install_path, activate, daemon, enable_ipvsadm) = match cluster.failover {
        Failover::Piranha => (
            ArtifactKind::PiranhaLvsCf,
            "/etc/sysconfig/ha/lvs.cf",
            "chkconfig pulse on (pulse reads this file at boot, brings the VIPs up on the active director and starts lvsd and nanny, which program IPVS)",
            "pulse",
            "chkconfig ipvsadm on",
        ),
        Failover::Keepalived => (
            ArtifactKind::Keepalived,
            "/etc/keepalived/keepalived.conf",
            "systemctl enable keepalived.service (it reads this file at boot: VRRP moves the VIPs, the checkers program IPVS)",
            "keepalived",
            "systemctl enable ipvsadm.service",
        ),
    };
    let artifacts = vec![
        file(kind, install_path, CONFIG_MODE, activate.into()),
        file(
            ArtifactKind::Ipvsadm,
            "/etc/sysconfig/ipvsadm",
            RULES_MODE,
            format!("{enable_ipvsadm} restores this table at boot, for a director run without {daemon}; with {daemon} leave the ipvsadm service off ({daemon} programs the same table) and use the file to compare (the kernel lists entries in its own order): diff <(ipvsadm-save -n | sort) <(sort /etc/sysconfig/ipvsadm)"),
        ),
    ];
    HostPlan { host: Host::Director(director), artifacts }
}

fn plan_server(server: &RealServer) -> HostPlan<'_> {
    let mut artifacts = Vec::new();
    match server.suppression {
        Suppression::ArptablesJf => artifacts.push(file(
            ArtifactKind::ArptablesJf,
            "/etc/sysconfig/arptables",
            RULES_MODE,
            "chkconfig --level 2345 arptables_jf on (its init script restores this file at boot, before the network)"
                .into(),
        )),
        Suppression::Arptables => artifacts.push(file(
            ArtifactKind::Arptables,
            "/etc/sysconfig/arptables",
            RULES_MODE,
            "systemctl enable arptables.service (it restores this file at boot, before the network)".into(),
        )),
        Suppression::Nftables => {
            artifacts.push(file(
                ArtifactKind::Nftables,
                NFT_SCRIPT_PATH,
                RULES_MODE,
                "systemctl enable nftables.service (it loads /etc/sysconfig/nftables.conf, which includes this file)"
                    .into(),
            ));
            artifacts.push(PlannedArtifact {
                install: Install::Block,
                ..file(
                    ArtifactKind::NftablesInclude,
                    "/etc/sysconfig/nftables.conf",
                    RULES_MODE,
                    "merge this block into /etc/sysconfig/nftables.conf".into(),
                )
            });
        }
    }
    for vip in &server.vips {
        artifacts.push(PlannedArtifact {
            id: format!("ifcfg-{}", vip.label.as_str()),
            vip: Some(vip),
            ..file(
                ArtifactKind::IfcfgAlias,
                &format!("/etc/sysconfig/network-scripts/ifcfg-{}", vip.label.as_str()),
                CONFIG_MODE,
                "none at boot: ONPARENT=no keeps the network service from bringing it up; the rc.local block adds the VIP".into(),
            )
        });
    }
    let executable = match server.platform {
        Platform::El4 | Platform::El5 | Platform::El6 => "",
        _ => " and keep /etc/rc.d/rc.local executable (chmod 0755: systemd runs it only then)",
    };
    artifacts.push(PlannedArtifact {
        install: Install::Block,
        ..file(
            ArtifactKind::RcLocal,
            "/etc/rc.d/rc.local",
            SCRIPT_MODE,
            format!("merge this block into /etc/rc.d/rc.local{executable}"),
        )
    });
    HostPlan { host: Host::RealServer(server), artifacts }
}
