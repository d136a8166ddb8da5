//! Boot and change: how each real server comes up from its tree, and how a changed tree is
//! applied to it while it runs, as the ordered commands index.json gives (`steps`).
//!
//! The one invariant: no VIP is on an interface unless its ARP suppression is loaded. So
//! at boot the rules load first (before the network on systemd, from lvsdr's own unit),
//! the VIPs after, from `vips up` only; on a change, VIPs that left go down while their
//! old rules still hold, then the new rules load, then the VIPs come up behind them.

// A new init system or loader must not compile until it has its steps.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::{BootStep, HostSteps, Step};
use crate::dialect::{dialect, Ipv6Lock, Loader, VipDevice};
use crate::model::{RealServer, Suppression};
use crate::platform::InitSystem;

/// The script that brings a real server's VIPs up and down (`templates/vips.sh`).
pub const VIPS_SCRIPT: &str = "/usr/libexec/lvsdr/vips";
/// Where lvsdr's systemd units go.
pub const UNIT_DIR: &str = "/etc/systemd/system";
/// lvsdr's unit that loads the rules when the dialect has no service of the platform's.
pub const SUPPRESSION_UNIT: &str = "lvsdr-arp.service";
pub const VIPS_UNIT: &str = "lvsdr-vips.service";
pub const GUARD_SERVICE: &str = "lvsdr-guard.service";

pub const SYSTEMCTL: &str = "/usr/bin/systemctl";

fn vips(command: &str) -> Step {
    Step::new([VIPS_SCRIPT, command])
}

fn by(who: &str, step: &Step) -> BootStep {
    BootStep { by: who.to_owned(), argv: step.argv.clone() }
}

/// The unit the VIPs are bound to on systemd: lvsdr's own, or the dialect's service.
pub fn suppression_unit(loader: &Loader) -> String {
    match loader {
        Loader::Vips => SUPPRESSION_UNIT.to_owned(),
        Loader::Service { name } => format!("{name}.service"),
    }
}

/// The steps of `server`, from its platform's init system and its dialect's loader.
///
/// Applying a change is the same on every platform and dialect, and hitless: the VIPs that
/// left go down while their old rules still hold (`vips retire`), the new rules load
/// without a moment in which a VIP that stays lacks its rules (`vips load`: one nft
/// transaction, or arptables rules added before stale ones are deleted), then the VIPs
/// that arrive come up behind them (`vips up`). No service restart flushes under live VIPs.
pub fn steps(server: &RealServer) -> HostSteps {
    let profile = server.platform.profile();
    let loader = dialect(server.suppression).loader();
    let hitless = [vips("retire"), vips("load"), vips("up")];
    match (profile.init, &loader) {
        (InitSystem::Systemd, Loader::Vips) => {
            let units = [SUPPRESSION_UNIT, VIPS_UNIT, GUARD_SERVICE];
            let mut apply = vec![Step::new([SYSTEMCTL, "daemon-reload"])];
            apply.extend(hitless);
            // A first install starts the units: the same load, then `vips up`, again; a
            // running guard is restarted so that its loop is the new tree's.
            apply.push(systemctl("start", &units));
            apply.push(systemctl("restart", &[GUARD_SERVICE]));
            HostSteps {
                enable: vec![Step::new([SYSTEMCTL, "daemon-reload"]), systemctl("enable", &units)],
                boot_before_network: vec![by(SUPPRESSION_UNIT, &vips("load"))],
                boot_after_network: vec![by(VIPS_UNIT, &vips("up"))],
                apply,
            }
        }
        (InitSystem::Systemd, Loader::Service { name }) => {
            let service = format!("{name}.service");
            let units = [service.as_str(), VIPS_UNIT, GUARD_SERVICE];
            let mut apply = vec![Step::new([SYSTEMCTL, "daemon-reload"])];
            apply.extend(hitless);
            apply.push(systemctl("start", &units));
            apply.push(systemctl("restart", &[GUARD_SERVICE]));
            HostSteps {
                enable: vec![Step::new([SYSTEMCTL, "daemon-reload"]), systemctl("enable", &units)],
                boot_before_network: vec![by(&service, &systemctl("start", &[service.as_str()]))],
                boot_after_network: vec![by(VIPS_UNIT, &vips("up"))],
                apply,
            }
        }
        (InitSystem::SysV, Loader::Service { name }) => {
            let start = by(&format!("the {name} init script"), &Step::new(["/sbin/service", name, "start"]));
            let rc_local = by("rc.local", &vips("up"));
            let (before, after) = if profile.rules_service_before_network {
                (vec![start], vec![rc_local])
            } else {
                (Vec::new(), vec![start, rc_local])
            };
            HostSteps {
                enable: vec![Step::new(["/sbin/chkconfig", "--level", "2345", name, "on"])],
                boot_before_network: before,
                boot_after_network: after,
                // Never the init script's restart, which flushes before it restores.
                apply: hitless.to_vec(),
            }
        }
        (InitSystem::SysV, Loader::Vips) => {
            // No service of the platform's: rc.local loads the rules, then brings the VIPs up.
            HostSteps {
                enable: Vec::new(),
                boot_before_network: Vec::new(),
                boot_after_network: vec![by("rc.local", &vips("load")), by("rc.local", &vips("up"))],
                apply: hitless.to_vec(),
            }
        }
    }
}

fn systemctl(verb: &str, units: &[&str]) -> Step {
    let mut argv = vec![SYSTEMCTL.to_owned(), verb.to_owned()];
    argv.extend(units.iter().map(|u| (*u).to_owned()));
    Step { argv }
}

/// `lvsdr explain boot`: the boot and change model of every platform, from the platform
/// table and the dialects, and the artifacts left out where they would be unsafe.
pub fn explain() -> String {
    use crate::model::{NetworkStack, Platform};
    let mut text = String::from(
        "How each platform boots a real server from its tree (index.json's steps say it as commands).\n\
         The one invariant: no VIP is on an interface unless lvsdr's ARP suppression for it is loaded.\n\n",
    );
    for platform in Platform::ALL {
        let profile = platform.profile();
        let dialects: Vec<&str> = profile.dialects.iter().map(|d| d.as_str()).collect();
        let stacks: Vec<&str> = profile.network_stacks.iter().map(|s| s.as_str()).collect();
        let (rules, vips) = match profile.init {
            InitSystem::Systemd => (
                "lvsdr-arp.service (vips load), after nftables.service and firewalld, before network-pre.target",
                "lvsdr-vips.service (vips up), after network-online.target, bound to the rules' unit and the interface;\n  \
                 guard: lvsdr-guard.service (vips watch) repairs within a second what other programs undo",
            ),
            InitSystem::SysV if profile.rules_service_before_network => (
                "arptables_jf's init script, before the network (sysctl: vips load in the rc.local block)",
                "the rc.local block, run last; no guard (run vips repair after anything flushes the rules)",
            ),
            InitSystem::SysV => (
                "arptables_jf's init script, after the network (sysctl: vips load in the rc.local block)",
                "the rc.local block, run last; no guard (run vips repair after anything flushes the rules)",
            ),
        };
        text += &format!(
            "{platform} ({}): dialects {}; network stacks {} (default {})\n  rules: {rules}\n  VIPs: {vips}\n",
            profile.product,
            dialects.join(", "),
            stacks.join(", "),
            stacks[0]
        );
        for stack in profile.network_stacks {
            let after = match stack {
                NetworkStack::NetworkManager => {
                    "NetworkManager's dispatcher script runs vips repair (up, reapply, dhcp4-change); no ifcfg alias\n    \
                     files; vips up adds nothing until NetworkManager has activated the interface"
                }
                NetworkStack::Initscripts if profile.network_stacks.contains(&NetworkStack::NetworkManager) => {
                    "ifcfg alias files (ONPARENT=no); the ifup-local block runs vips repair after ifup. NetworkManager\n    \
                     must not manage the interface: set NM_CONTROLLED=no in its ifcfg file (NetworkManager reads\n    \
                     the alias files into the parent's connection and announces them, and ifup hands the interface\n    \
                     to it); vips up refuses every VIP while it does"
                }
                NetworkStack::Initscripts => {
                    "ifcfg alias files (ONPARENT=no); the ifup-local block runs vips repair after ifup"
                }
            };
            text += &format!("  {stack}: {after}\n");
        }
    }
    text += "\nDialects: where the VIPs live, and what loads their lock at boot:\n";
    for suppression in Suppression::ALL {
        let dialect = dialect(*suppression);
        let place = match dialect.vip_device() {
            VipDevice::ServiceInterface => "on the interface, behind lvsdr's rules for them",
            VipDevice::Loopback => {
                "on lo, behind the interface's arp_ignore 1 and arp_announce 2 (the effective values, which\n    \
                 all.* can raise, are checked; lvsdr never sets all.*; vips unload puts the old values back)"
            }
        };
        let loader = match dialect.loader() {
            Loader::Service { name } => format!("the {name} init script"),
            Loader::Vips => "vips load (lvsdr-arp.service on systemd, the rc.local block on SysV)".to_owned(),
        };
        let ipv6 = match dialect.ipv6_lock() {
            Ipv6Lock::Rules => {
                "IPv6 VIPs there too, as /128 nodad preferred_lft 0, behind table ip6 lvsdr (solicitations\n    \
                 for them dropped on input; advertisements of them dropped and solicitations from them given the\n    \
                 real IPv6 address as source on output)"
            }
            Ipv6Lock::Loopback => {
                "IPv6 VIPs on lo as /128 nodad preferred_lft 0, behind no switch: Linux answers a Neighbour\n    \
                 Solicitation only for an address of the interface it arrived on"
            }
            Ipv6Lock::None => "no IPv6 VIPs (it sees ARP only: lvsdr check refuses them, E0043)",
        };
        text += &format!("- {suppression}: VIPs {place}; loaded by {loader};\n    {ipv6}\n");
    }
    text += "IPv6 VIPs need el6 or later and keepalived directors (VRRP version 3, one instance per family,\n\
             in one sync group); every director and each IPv6 VIP's real servers need address6.\n";
    text += "\nA change: install the new files, run steps.enable, then steps.apply, the same on every\n\
             platform and dialect: VIPs that left go down while their old rules hold (vips retire), the new\n\
             rules load with no moment in which a VIP that stays lacks its rules (vips load: one nft\n\
             transaction, or arptables rules added before stale ones go), the VIPs that arrive come up\n\
             behind them (vips up). VIPs that stay never go down.\n\n\
             What other programs do, and what lvsdr then does (systemd platforms):\n\
             - nft flush ruleset, arptables -F, a ruleset loaded over lvsdr's: the guard loads lvsdr's\n  \
             rules again (nft monitor reports the change at once; arptables is polled every 0.8 s).\n\
             - nftables.service: its reload and stop flush the ruleset, its start may load a stale saved\n  \
             copy of table arp lvsdr; lvsdr's drop-in runs vips repair after each. firewalld's start stops\n  \
             nftables.service (Conflicts=); firewalld itself deletes only its own tables.\n\
             - NetworkManager's reapply, re-activation or a link flap remove the VIPs: the dispatcher (up,\n  \
             and reapply from NetworkManager 1.42) and the guard bring them back.\n\
             - a VIP in a NetworkManager connection's addresses is announced by NetworkManager: vips up\n  \
             refuses it and vips status reports it unsafe.\n\
             - sysctl dialect: no flush of a ruleset touches the switches; a sysctl -w that puts one back\n  \
             is found by the guard's poll (0.8 s) and set again.\n\
             - systemctl stop lvsdr-arp.service: vips unload takes the VIPs down, then removes the rules.\n\
             - vips down: the VIPs stay down; the guard adds nothing until the next vips up.\n\n\
             Left out where unsafe:\n\
             - ifcfg alias files on NetworkManager hosts: NetworkManager's ifcfg-rh reader adds every\n  \
             ifcfg-<dev>:<n> address to the parent connection (it reads no ONPARENT, ARPCHECK or ARPUPDATE)\n  \
             and announces it by ARP on a packet socket, which no ARP rule sees.\n\
             - the rc.local block on systemd platforms: rc-local.service and arptables.service are both\n  \
             After=network.target and nothing orders them; lvsdr's units do.\n\
             - an include in /etc/sysconfig/nftables.conf: nftables.service conflicts with firewalld, its stop\n  \
             flushes the whole ruleset, and on nft older than 0.9.1 the include fails the whole file.\n";
    text
}
