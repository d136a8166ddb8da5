//! What a director runs to take its tree — enable, reload, restart — and what identifies
//! its VRRP instances, so that a review can tell a reload from a restart.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::boot::SYSTEMCTL;
use crate::contract::{ArtifactKind, DirectorSteps, Step, VrrpEntry};
use crate::model::{Cluster, Director, Failover, Firewall, Preempt};
use crate::platform::InitSystem;

/// RHEL's paths of the programs the steps run (el7+).
const KEEPALIVED: &str = "/usr/sbin/keepalived";
const FIREWALL_CMD: &str = "/usr/bin/firewall-cmd";

/// Where keepalived reads its configuration.
pub const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
/// The modules-load.d file that loads IPVS and the schedulers in use at boot.
pub const MODULES_LOAD: &str = "/etc/modules-load.d/lvsdr-ipvs.conf";

/// The firewalld service that lets the cluster's VRRP and ports in: `lvsdr-<cluster>`.
pub fn firewalld_service(cluster: &Cluster) -> String {
    format!("lvsdr-{}", cluster.name)
}

/// Where firewalld reads that service.
pub fn firewalld_service_path(cluster: &Cluster) -> String {
    format!("/etc/firewalld/services/{}.xml", firewalld_service(cluster))
}

/// Whether a director's enable steps act on a file of `kind`, so that a change to it runs
/// them again (`lvsdr diff`): the failover configuration and the IPVS table are read by the
/// reload or restart alone.
pub fn enable_steps_act_on(kind: ArtifactKind) -> bool {
    match kind {
        ArtifactKind::Keepalived | ArtifactKind::LvsCf | ArtifactKind::Ipvsadm => false,
        ArtifactKind::ModulesLoad
        | ArtifactKind::FirewalldService
        | ArtifactKind::MarksNftables
        | ArtifactKind::MarksIptables
        | ArtifactKind::MarksIp6tables
        | ArtifactKind::FirewalldDirect
        | ArtifactKind::MarksUnit
        | ArtifactKind::MarksInit => true,
        // A real server's kinds: a director has none, and a file it does not know
        // is safer taken with its enable steps.
        ArtifactKind::Arptables
        | ArtifactKind::ArptablesJf
        | ArtifactKind::Nftables
        | ArtifactKind::SystemdDropin
        | ArtifactKind::Vips
        | ArtifactKind::SystemdUnit
        | ArtifactKind::NmDispatcher
        | ArtifactKind::IfcfgAlias
        | ArtifactKind::IfupLocal
        | ArtifactKind::RcLocal => true,
    }
}

/// The kernel modules a director loads at boot: IPVS and each scheduler in use, sorted.
pub fn ipvs_modules(cluster: &Cluster) -> Vec<String> {
    let mut modules: Vec<String> = cluster.services.iter().map(|s| format!("ip_vs_{}", s.scheduler)).collect();
    modules.push("ip_vs".to_owned());
    modules.sort();
    modules.dedup();
    modules
}

pub fn steps(cluster: &Cluster, director: &Director) -> DirectorSteps {
    let owned = |argv: Vec<String>| Step { argv };
    // The marks first: keepalived and pulse program IPVS services named by them.
    let marks = crate::director_marks::plan(cluster, director)
        .map(|(_, loader)| crate::director_marks::enable_steps(loader))
        .unwrap_or_default();
    match cluster.failover {
        // pulse reads lvs.cf when it starts; nothing checks the file beforehand.
        Failover::Piranha => DirectorSteps {
            enable: marks
                .into_iter()
                .chain([Step::new(["/sbin/chkconfig", "--level", "2345", "pulse", "on"])])
                .collect(),
            reload: vec![Step::new(["/sbin/service", "pulse", "restart"])],
            restart: vec![Step::new(["/sbin/service", "pulse", "restart"])],
        },
        Failover::Keepalived => {
            let mut enable = marks;
            enable.push(Step::new([SYSTEMCTL, "enable", "keepalived.service"]));
            match director.platform.profile().init {
                // keepalived loads ip_vs itself, but the schedulers' modules only when a
                // service first uses them, which some releases fail at boot (keepalived
                // issue 2435): the modules-load.d file loads them all; this loads them now.
                InitSystem::Systemd => enable.push(Step::new([SYSTEMCTL, "restart", "systemd-modules-load.service"])),
                InitSystem::SysV => {}
            }
            match director.firewall {
                // firewalld learns a new service file only on a reload: reload, enable the
                // service in the default zone's permanent configuration, reload into runtime.
                Firewall::Firewalld => {
                    let service = format!("--add-service={}", firewalld_service(cluster));
                    enable.push(Step::new([FIREWALL_CMD, "--reload"]));
                    enable.push(owned(vec![FIREWALL_CMD.into(), "--permanent".into(), service]));
                    enable.push(Step::new([FIREWALL_CMD, "--reload"]));
                }
                Firewall::None => {}
            }
            // keepalived 2 checks the file first; el7's 1.3.5 has no -t (it exits 0 on it,
            // testing nothing), so there the reload or restart is all.
            let test: Vec<Step> = if director.platform.profile().keepalived_2 {
                vec![Step::new([KEEPALIVED, "-t", "-f", KEEPALIVED_CONF])]
            } else {
                Vec::new()
            };
            let then =
                |verb: &str| test.iter().cloned().chain([Step::new([SYSTEMCTL, verb, "keepalived.service"])]).collect();
            DirectorSteps { enable, reload: then("reload"), restart: then("restart") }
        }
    }
}

/// The director's VRRP instances as keepalived.conf sets them (keepalived only).
pub fn vrrp(cluster: &Cluster, director: &Director) -> Option<VrrpEntry> {
    match cluster.failover {
        Failover::Piranha => None,
        Failover::Keepalived => {
            let v = &cluster.vrrp;
            let (four, six) = (
                director.vips.iter().any(|vip| vip.address.is_ipv4()),
                director.vips.iter().any(|vip| vip.address.is_ipv6()),
            );
            let mut instances = Vec::new();
            if four {
                instances.push(format!("lvsdr-{}", cluster.name));
            }
            if six {
                instances.push(format!("lvsdr-{}-v6", cluster.name));
            }
            let primary = std::ptr::eq(director, &cluster.directors[0]);
            // As keepalived.conf has them: per instance, its own address and the others'.
            let (mut unicast_sources, mut unicast_peers) = (Vec::new(), Vec::new());
            if v.unicast {
                let others = || cluster.directors.iter().filter(|d| !std::ptr::eq(*d, director));
                if four {
                    unicast_sources.push(director.address.addr().to_string());
                    unicast_peers.extend(others().map(|d| d.address.addr().to_string()));
                }
                if six {
                    unicast_sources.extend(director.address6.map(|a| a.addr().to_string()));
                    unicast_peers.extend(others().filter_map(|d| d.address6).map(|a| a.addr().to_string()));
                }
            }
            Some(VrrpEntry {
                instances,
                router_id: v.router_id,
                state: initial_state(cluster, primary).to_owned(),
                priority: director.vrrp_priority,
                advert_int: v.advert_int,
                unicast_sources,
                unicast_peers,
                preempt: match v.preempt {
                    Preempt::AtOnce => "yes".to_owned(),
                    Preempt::After(delay) => format!("after {delay}"),
                    Preempt::Never => "no".to_owned(),
                },
                track_interfaces: v.track_interfaces.iter().map(|i| i.to_string()).collect(),
                notify: v.notify.as_ref().map(|n| n.to_string()),
            })
        }
    }
}

/// A director's initial VRRP state. keepalived honours nopreempt and preempt_delay only
/// from BACKUP (it clears preempt_delay on a MASTER, and says so): then every director
/// starts as one, and the priorities still elect the primary.
pub fn initial_state(cluster: &Cluster, primary: bool) -> &'static str {
    if primary && cluster.vrrp.preempt == Preempt::AtOnce {
        "MASTER"
    } else {
        "BACKUP"
    }
}
