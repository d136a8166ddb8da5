//! Plan: which artifacts each host gets, in which dialect, installed where and how.
//!
//! A real server's artifacts come from its dialect (`dialect`), its VIPs (one alias file
//! each) and its platform (`platform`); a director's from the cluster's failover family.
//! Each role has its own artifact enum, carrying what rendering it needs, so no stage
//! has to handle a director artifact on a real server or the other way round.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::Step;
pub use crate::contract::{InstallKind as Install, CONFIG_MODE, RULES_MODE, SCRIPT_MODE};
use crate::dialect::{dialect, DialectArtifact};
use crate::model::{Cluster, Director, Failover, Name, RealServer, ServedVip};

/// Where and how one artifact is installed: the same fields for every kind.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Unique per host: the kind, or `ifcfg-<label>` for alias files.
    pub id: String,
    /// The kind as index.json names it.
    pub kind: &'static str,
    /// Absolute path of the file on the host.
    pub install_path: String,
    pub install: Install,
    pub mode: u32,
    /// What makes it take effect at boot, for people.
    pub activate: String,
    /// The commands that load it on a running host, if it is loaded at all.
    pub load: Vec<Step>,
}

impl Placement {
    fn file(kind: &'static str, install_path: impl Into<String>, mode: u32, activate: impl Into<String>) -> Placement {
        Placement {
            id: kind.to_owned(),
            kind,
            install_path: install_path.into(),
            install: Install::File,
            mode,
            activate: activate.into(),
            load: Vec::new(),
        }
    }

    /// Path inside the output tree, relative to the tree's root: under the host's directory.
    pub fn tree_path(&self, host: &Name) -> String {
        let relative = self.install_path.trim_start_matches('/');
        match self.install {
            Install::File => format!("{host}/{relative}"),
            Install::Block => format!("{host}/fragments/{relative}"),
        }
    }
}

/// A real server's artifacts.
pub enum ServerArtifact<'c> {
    /// One of its dialect's artifacts (rules file, loader block).
    Suppression(&'static DialectArtifact),
    /// The RHEL ifcfg alias file of one VIP.
    IfcfgAlias(&'c ServedVip),
    /// The block to merge into `/etc/rc.d/rc.local`.
    RcLocal,
}

/// A director's artifacts.
pub enum DirectorArtifact {
    /// Piranha's `lvs.cf` or `keepalived.conf`.
    FailoverConfig(Failover),
    /// The IPVS table in `ipvsadm-save -n` form.
    Ipvsadm,
}

/// One artifact to emit: where it goes and what it is.
pub struct Planned<A> {
    pub placement: Placement,
    pub artifact: A,
}

/// A host and its artifacts, in a fixed order.
pub enum HostPlan<'c> {
    Director(&'c Director, Vec<Planned<DirectorArtifact>>),
    RealServer(&'c RealServer, Vec<Planned<ServerArtifact<'c>>>),
}

impl HostPlan<'_> {
    pub fn name(&self) -> &Name {
        match self {
            HostPlan::Director(director, _) => &director.name,
            HostPlan::RealServer(server, _) => &server.name,
        }
    }

    /// "real server" or "director", for messages.
    pub fn role(&self) -> &'static str {
        match self {
            HostPlan::Director(..) => "director",
            HostPlan::RealServer(..) => "real server",
        }
    }

    /// The placements of its artifacts, in order.
    pub fn placements(&self) -> Vec<&Placement> {
        match self {
            HostPlan::Director(_, artifacts) => artifacts.iter().map(|a| &a.placement).collect(),
            HostPlan::RealServer(_, artifacts) => artifacts.iter().map(|a| &a.placement).collect(),
        }
    }
}

/// Plans every host of the cluster: the directors in manifest order, then the real servers
/// in name order.
pub fn plan(cluster: &Cluster) -> Vec<HostPlan<'_>> {
    let directors = cluster.directors.iter().map(|d| plan_director(cluster, d));
    directors.chain(cluster.real_servers.iter().map(plan_server)).collect()
}

fn plan_director<'c>(cluster: &Cluster, director: &'c Director) -> HostPlan<'c> {
    // Lowering gives every director the same failover family, so it comes from the cluster.
    let (kind, install_path, activate, daemon, enable_ipvsadm) = match cluster.failover {
        Failover::Piranha => (
            "lvs.cf",
            "/etc/sysconfig/ha/lvs.cf",
            "chkconfig pulse on (pulse reads this file at boot, brings the VIPs up on the active director and starts lvsd and nanny, which program IPVS)",
            "pulse",
            "chkconfig ipvsadm on",
        ),
        Failover::Keepalived => (
            "keepalived",
            "/etc/keepalived/keepalived.conf",
            "systemctl enable keepalived.service (it reads this file at boot: VRRP moves the VIPs, the checkers program IPVS)",
            "keepalived",
            "systemctl enable ipvsadm.service",
        ),
    };
    let artifacts = vec![
        Planned {
            placement: Placement::file(kind, install_path, CONFIG_MODE, activate),
            artifact: DirectorArtifact::FailoverConfig(cluster.failover),
        },
        Planned {
            placement: Placement::file(
                "ipvsadm",
                "/etc/sysconfig/ipvsadm",
                RULES_MODE,
                format!("{enable_ipvsadm} restores this table at boot, for a director run without {daemon}; with {daemon} leave the ipvsadm service off ({daemon} programs the same table) and use the file to compare (the kernel lists entries in its own order): diff <(ipvsadm-save -n | sort) <(sort /etc/sysconfig/ipvsadm)"),
            ),
            artifact: DirectorArtifact::Ipvsadm,
        },
    ];
    HostPlan::Director(director, artifacts)
}

fn plan_server(server: &RealServer) -> HostPlan<'_> {
    let profile = server.platform.profile();
    let dialect = dialect(server.suppression);
    let mut artifacts: Vec<Planned<ServerArtifact<'_>>> = Vec::new();
    for (i, spec) in dialect.artifacts().iter().enumerate() {
        let placement = Placement {
            install: spec.install,
            // The rules file (first) is what loading acts on.
            load: if i == 0 { dialect.load(profile.init) } else { Vec::new() },
            ..Placement::file(spec.kind, spec.install_path, spec.mode, spec.activate)
        };
        artifacts.push(Planned { placement, artifact: ServerArtifact::Suppression(spec) });
    }
    for vip in &server.vips {
        let placement = Placement {
            id: format!("ifcfg-{}", vip.label.as_str()),
            ..Placement::file(
                "ifcfg-alias",
                format!("/etc/sysconfig/network-scripts/ifcfg-{}", vip.label.as_str()),
                CONFIG_MODE,
                "none at boot: ONPARENT=no keeps the network service from bringing it up; the rc.local block adds the VIP",
            )
        };
        artifacts.push(Planned { placement, artifact: ServerArtifact::IfcfgAlias(vip) });
    }
    let executable = if profile.rc_local_must_be_executable {
        " and keep /etc/rc.d/rc.local executable (chmod 0755: systemd runs it only then)"
    } else {
        ""
    };
    let placement = Placement {
        install: Install::Block,
        ..Placement::file(
            "rc-local",
            "/etc/rc.d/rc.local",
            SCRIPT_MODE,
            format!("merge this block into /etc/rc.d/rc.local{executable}"),
        )
    };
    artifacts.push(Planned { placement, artifact: ServerArtifact::RcLocal });
    HostPlan::RealServer(server, artifacts)
}
