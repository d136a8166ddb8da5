//! Plan: which artifacts each host gets, in which dialect, installed where and how.
//!
//! A real server's artifacts come from its dialect (`dialect`), its platform's init system
//! (systemd units or an rc.local block) and its network stack (a NetworkManager dispatcher
//! script, or ifcfg alias files and an ifup-local block); a director's from the cluster's
//! failover family.
//! Each role has its own artifact enum, carrying what rendering it needs, so no stage
//! has to handle a director artifact on a real server or the other way round.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::boot;
use crate::contract::{ArtifactKind, Role, Step};
pub use crate::contract::{InstallKind as Install, CONFIG_MODE, RULES_MODE, SCRIPT_MODE};
use crate::dialect::{dialect, DialectArtifact, Loader};
use crate::director_marks::{self, MarkForm, MarkLoader};
use crate::director_steps;
use crate::model::{AliasLabel, Cluster, Director, Failover, Firewall, Name, NetworkStack, RealServer, ServedVip};
use crate::platform::InitSystem;

/// Where and how one artifact is installed: the same fields for every kind.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Unique per host: the kind, or `ifcfg-<label>` for alias files.
    pub id: String,
    pub kind: ArtifactKind,
    /// Absolute path of the file on the host.
    pub install_path: String,
    pub install: Install,
    pub mode: u32,
    /// What makes it take effect at boot, for people.
    pub activate: String,
}

impl Placement {
    fn file(kind: ArtifactKind, install_path: impl Into<String>, mode: u32, activate: impl Into<String>) -> Placement {
        Placement {
            id: kind.as_str().to_owned(),
            kind,
            install_path: install_path.into(),
            install: Install::File,
            mode,
            activate: activate.into(),
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
    /// One of its dialect's artifacts (the rules file).
    Suppression(&'static DialectArtifact),
    /// `/usr/libexec/lvsdr/vips`: the only thing that brings its VIPs up or down.
    VipsScript,
    /// `lvsdr-arp.service` (systemd, a dialect lvsdr loads itself): `vips load` and `vips unload`.
    SuppressionUnit,
    /// `lvsdr-vips.service` (systemd), bound to `loader`, the unit that loads the rules.
    VipsUnit { loader: String },
    /// `lvsdr-guard.service` (systemd): `vips watch`, which repairs what other programs undo.
    GuardService { loader: String },
    /// The NetworkManager dispatcher script that brings the VIPs back after NM changes
    /// the interface (NetworkManager hosts).
    NetworkManagerDispatcher,
    /// The RHEL ifcfg alias file of one VIP, by its label (initscripts hosts).
    IfcfgAlias(&'c ServedVip, &'c AliasLabel),
    /// The block for `/sbin/ifup-local`, which brings the VIPs back after every ifup
    /// (initscripts hosts).
    IfupLocal,
    /// The block for `/etc/rc.d/rc.local` (SysV platforms), with the commands that load
    /// the rules when no service of the platform's does.
    RcLocal { preload: Vec<Step> },
}

/// A director's artifacts.
pub enum DirectorArtifact {
    /// Piranha's `lvs.cf` or `keepalived.conf`.
    FailoverConfig(Failover),
    /// The IPVS table in `ipvsadm-save -n` form.
    Ipvsadm,
    /// The modules-load.d file for IPVS and the schedulers in use (systemd directors).
    ModulesLoad,
    /// The firewalld service that lets VRRP and the services' ports in.
    FirewalldService,
    /// The rules that mark firewall-mark services' packets, in one form.
    MarkRules(MarkForm),
    /// What loads those rules at boot: a unit or an init script.
    MarkLoader { loader: MarkLoader, forms: Vec<MarkForm> },
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

    pub fn role(&self) -> Role {
        match self {
            HostPlan::Director(..) => Role::Director,
            HostPlan::RealServer(..) => Role::RealServer,
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

/// How many hosts the cluster has: directors and real servers.
pub fn host_count(cluster: &Cluster) -> usize {
    cluster.directors.len() + cluster.real_servers.len()
}

/// The name of the `n`th host in `plan`'s order, without planning it.
pub fn host_name(cluster: &Cluster, n: usize) -> &Name {
    match cluster.directors.get(n) {
        Some(director) => &director.name,
        None => &cluster.real_servers[n - cluster.directors.len()].name,
    }
}

/// Plans the `n`th host in `plan`'s order, so that hosts can be planned one at a time.
pub fn plan_host(cluster: &Cluster, n: usize) -> HostPlan<'_> {
    match cluster.directors.get(n) {
        Some(director) => plan_director(cluster, director),
        None => plan_server(&cluster.real_servers[n - cluster.directors.len()]),
    }
}

fn plan_director<'c>(cluster: &Cluster, director: &'c Director) -> HostPlan<'c> {
    // Lowering gives every director the same failover family, so it comes from the cluster.
    let (kind, install_path, activate, daemon, enable_ipvsadm) = match cluster.failover {
        Failover::Piranha => (
            ArtifactKind::LvsCf,
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
    let mut artifacts = vec![
        Planned {
            placement: Placement::file(kind, install_path, CONFIG_MODE, activate),
            artifact: DirectorArtifact::FailoverConfig(cluster.failover),
        },
        Planned {
            placement: Placement::file(
                ArtifactKind::Ipvsadm,
                "/etc/sysconfig/ipvsadm",
                RULES_MODE,
                format!("{enable_ipvsadm} restores this table at boot, for a director run without {daemon}; with {daemon} leave the ipvsadm service off ({daemon} programs the same table) and use the file to compare (the kernel lists entries in its own order): diff <(ipvsadm-save -n | sort) <(sort /etc/sysconfig/ipvsadm)"),
            ),
            artifact: DirectorArtifact::Ipvsadm,
        },
    ];
    match director.platform.profile().init {
        InitSystem::Systemd => artifacts.push(Planned {
            placement: Placement::file(
                ArtifactKind::ModulesLoad,
                director_steps::MODULES_LOAD,
                CONFIG_MODE,
                "systemd-modules-load.service loads these modules at every boot (index.json's steps.enable loads them now)",
            ),
            artifact: DirectorArtifact::ModulesLoad,
        }),
        // Piranha's lvsd loads IPVS through ipvsadm, and the kernel each scheduler.
        InitSystem::SysV => {}
    }
    match director.firewall {
        Firewall::Firewalld => artifacts.push(Planned {
            placement: Placement::file(
                ArtifactKind::FirewalldService,
                director_steps::firewalld_service_path(cluster),
                CONFIG_MODE,
                format!(
                    "firewall-cmd --reload, then --permanent --add-service={} and --reload again (index.json's steps.enable): the default zone lets VRRP and the services' ports in",
                    director_steps::firewalld_service(cluster)
                ),
            ),
            artifact: DirectorArtifact::FirewalldService,
        }),
        Firewall::None => {}
    }
    if let Some((forms, loader)) = director_marks::plan(cluster, director) {
        for form in &forms {
            let activate = match loader {
                MarkLoader::Unit => format!("{} loads it at boot, before keepalived (index.json's steps.enable loads it now)", director_marks::UNIT),
                MarkLoader::InitScript => "the lvsdr-marks init script loads it at boot, after iptables and before pulse (index.json's steps.enable loads it now)".to_owned(),
                MarkLoader::Firewalld => "firewalld adds these rules whenever it starts or reloads (index.json's steps.enable reloads it)".to_owned(),
            };
            artifacts.push(Planned {
                placement: Placement::file(form.kind(), form.path(), CONFIG_MODE, activate),
                artifact: DirectorArtifact::MarkRules(*form),
            });
        }
        let loader_file = match loader {
            MarkLoader::Unit => Some((
                ArtifactKind::MarksUnit,
                director_marks::UNIT_PATH,
                CONFIG_MODE,
                format!("systemctl enable {} (index.json's steps.enable)", director_marks::UNIT),
            )),
            MarkLoader::InitScript => Some((
                ArtifactKind::MarksInit,
                director_marks::INIT_SCRIPT,
                SCRIPT_MODE,
                "chkconfig --add lvsdr-marks (index.json's steps.enable)".to_owned(),
            )),
            MarkLoader::Firewalld => None,
        };
        if let Some((kind, path, mode, activate)) = loader_file {
            artifacts.push(Planned {
                placement: Placement::file(kind, path, mode, activate),
                artifact: DirectorArtifact::MarkLoader { loader, forms },
            });
        }
    }
    HostPlan::Director(director, artifacts)
}

fn plan_server(server: &RealServer) -> HostPlan<'_> {
    let profile = server.platform.profile();
    let dialect = dialect(server.suppression);
    let mut artifacts: Vec<Planned<ServerArtifact<'_>>> = Vec::new();
    let mut push = |placement: Placement, artifact| artifacts.push(Planned { placement, artifact });
    for spec in dialect.artifacts() {
        let placement = Placement {
            install: spec.install,
            ..Placement::file(spec.kind, spec.install_path, spec.mode, spec.activate)
        };
        push(placement, ServerArtifact::Suppression(spec));
    }
    push(
        Placement::file(
            ArtifactKind::Vips,
            boot::VIPS_SCRIPT,
            SCRIPT_MODE,
            "run by the boot and by index.json's apply steps; `vips status` shows each VIP and its rules",
        ),
        ServerArtifact::VipsScript,
    );
    let loader = dialect.loader();
    match profile.init {
        InitSystem::Systemd => {
            let unit = |file_name: &str| Placement {
                id: file_name.to_owned(),
                ..Placement::file(
                    ArtifactKind::SystemdUnit,
                    format!("{}/{file_name}", boot::UNIT_DIR),
                    CONFIG_MODE,
                    "systemctl daemon-reload and enable (index.json's steps.enable)",
                )
            };
            let vips_loader = boot::suppression_unit(&loader);
            match loader {
                Loader::Vips => push(unit(boot::SUPPRESSION_UNIT), ServerArtifact::SuppressionUnit),
                // The dialect's own service loads the rules: no unit of lvsdr's for them.
                Loader::Service { .. } => {}
            }
            push(unit(boot::VIPS_UNIT), ServerArtifact::VipsUnit { loader: vips_loader.clone() });
            push(unit(boot::GUARD_SERVICE), ServerArtifact::GuardService { loader: vips_loader });
        }
        InitSystem::SysV => push(
            Placement {
                install: Install::Block,
                ..Placement::file(
                    ArtifactKind::RcLocal,
                    "/etc/rc.d/rc.local",
                    SCRIPT_MODE,
                    "merge this block into /etc/rc.d/rc.local, which init runs last at boot",
                )
            },
            ServerArtifact::RcLocal {
                preload: match loader {
                    Loader::Vips => vec![Step::new([boot::VIPS_SCRIPT, "load"])],
                    Loader::Service { .. } => Vec::new(),
                },
            },
        ),
    }
    match server.network_stack {
        NetworkStack::NetworkManager => push(
            Placement::file(
                ArtifactKind::NmDispatcher,
                "/etc/NetworkManager/dispatcher.d/50-lvsdr",
                SCRIPT_MODE,
                "none: NetworkManager runs the executable files of dispatcher.d (owned by root) on every interface change",
            ),
            ServerArtifact::NetworkManagerDispatcher,
        ),
        NetworkStack::Initscripts => {
            for vip in &server.vips {
                // Lowering labels every VIP of an initscripts host.
                let Some(label) = &vip.label else { continue };
                let placement = Placement {
                    id: format!("ifcfg-{label}"),
                    ..Placement::file(
                        ArtifactKind::IfcfgAlias,
                        format!("/etc/sysconfig/network-scripts/ifcfg-{label}"),
                        CONFIG_MODE,
                        "none: ONPARENT=no keeps the network service from bringing it up and /usr/libexec/lvsdr/vips adds the VIP; never ifup it",
                    )
                };
                push(placement, ServerArtifact::IfcfgAlias(vip, label));
            }
            push(
                Placement {
                    install: Install::Block,
                    ..Placement::file(
                        ArtifactKind::IfupLocal,
                        "/sbin/ifup-local",
                        SCRIPT_MODE,
                        "merge this block into /sbin/ifup-local (new file: #!/bin/sh, then the block; mode 0755), which ifup-post runs after every ifup",
                    )
                },
                ServerArtifact::IfupLocal,
            );
        }
    }
    HostPlan::RealServer(server, artifacts)
}
