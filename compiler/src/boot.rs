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
use crate::dialect::{dialect, Loader};
use crate::model::RealServer;
use crate::platform::InitSystem;

/// The script that brings a real server's VIPs up and down (`templates/vips.sh`).
pub const VIPS_SCRIPT: &str = "/usr/libexec/lvsdr/vips";
/// Where lvsdr's systemd units go.
pub const UNIT_DIR: &str = "/etc/systemd/system";
/// lvsdr's unit that loads the rules when the dialect has no service of the platform's.
pub const SUPPRESSION_UNIT: &str = "lvsdr-arp.service";
pub const VIPS_UNIT: &str = "lvsdr-vips.service";
pub const GUARD_SERVICE: &str = "lvsdr-guard.service";
pub const GUARD_TIMER: &str = "lvsdr-guard.timer";

const SYSTEMCTL: &str = "/usr/bin/systemctl";

fn vips(command: &str) -> Step {
    Step::new([VIPS_SCRIPT, command])
}

fn by(who: &str, step: &Step) -> BootStep {
    BootStep { by: who.to_owned(), argv: step.argv.clone() }
}

/// The unit the VIPs are bound to on systemd: lvsdr's own, or the dialect's service.
pub fn suppression_unit(loader: &Loader) -> String {
    match loader {
        Loader::Commands { .. } => SUPPRESSION_UNIT.to_owned(),
        Loader::Service { name } => format!("{name}.service"),
    }
}

/// The steps of `server`, from its platform's init system and its dialect's loader.
pub fn steps(server: &RealServer) -> HostSteps {
    let profile = server.platform.profile();
    let loader = dialect(server.suppression).loader(server);
    match (profile.init, &loader) {
        (InitSystem::Systemd, Loader::Commands { load, atomic, .. }) => {
            let units = [SUPPRESSION_UNIT, VIPS_UNIT, GUARD_TIMER];
            let mut apply = vec![Step::new([SYSTEMCTL, "daemon-reload"]), leaving(*atomic)];
            if *atomic {
                // The new rules replace the old in one transaction under the VIPs that
                // stay; starting the units afterwards (a first install) repeats nothing
                // unsafe: the same atomic load, then `vips up`.
                apply.extend(load.iter().cloned());
                apply.push(vips("up"));
                apply.push(systemctl("start", &units));
            } else {
                // A load that flushes first must never run under a VIP: restarting the
                // rules' unit unloads and reloads them with every VIP down (`vips down`
                // above, and PartOf stops lvsdr-vips.service), then the VIPs start.
                apply.push(systemctl("restart", &[SUPPRESSION_UNIT]));
                apply.push(systemctl("start", &[VIPS_UNIT, GUARD_TIMER]));
            }
            HostSteps {
                enable: vec![Step::new([SYSTEMCTL, "daemon-reload"]), systemctl("enable", &units)],
                boot_before_network: load.iter().map(|s| by(SUPPRESSION_UNIT, s)).collect(),
                boot_after_network: vec![by(VIPS_UNIT, &vips("up"))],
                apply,
            }
        }
        (InitSystem::Systemd, Loader::Service { name }) => {
            let service = format!("{name}.service");
            let units = [service.as_str(), VIPS_UNIT, GUARD_TIMER];
            let restart = systemctl("restart", &[service.as_str()]);
            HostSteps {
                enable: vec![Step::new([SYSTEMCTL, "daemon-reload"]), systemctl("enable", &units)],
                boot_before_network: vec![by(&service, &systemctl("start", &[service.as_str()]))],
                boot_after_network: vec![by(VIPS_UNIT, &vips("up"))],
                // A service restart flushes before it restores: the VIPs go down first,
                // and start again only after it.
                apply: vec![
                    Step::new([SYSTEMCTL, "daemon-reload"]),
                    leaving(false),
                    restart,
                    systemctl("start", &units[1..]),
                ],
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
                // The init script's restart flushes before it restores: the VIPs go down first.
                apply: vec![leaving(false), Step::new(["/sbin/service", name, "restart"]), vips("up")],
            }
        }
        (InitSystem::SysV, Loader::Commands { load, atomic, .. }) => {
            // No service of the platform's: rc.local loads the rules, then brings the VIPs up.
            let mut after: Vec<BootStep> = load.iter().map(|s| by("rc.local", s)).collect();
            after.push(by("rc.local", &vips("up")));
            let mut apply = vec![leaving(*atomic)];
            apply.extend(load.iter().cloned());
            apply.push(vips("up"));
            HostSteps { enable: Vec::new(), boot_before_network: Vec::new(), boot_after_network: after, apply }
        }
    }
}

/// Before the rules change: an atomic load keeps every rule of a VIP that stays, so only
/// the VIPs that left go down; any other load has a moment without rules, so all go down.
fn leaving(atomic: bool) -> Step {
    vips(if atomic { "retire" } else { "down" })
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
                "lvsdr-arp.service, before network-pre.target (for a dialect without a service of its own)",
                "lvsdr-vips.service, bound to the rules' unit and to the interface; lvsdr-guard.timer takes down unprotected VIPs every 30 s",
            ),
            InitSystem::SysV if profile.rules_service_before_network => {
                ("the dialect's init script, before the network", "the rc.local block, run last")
            }
            InitSystem::SysV => ("the dialect's init script, after the network", "the rc.local block, run last"),
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
                NetworkStack::NetworkManager => "NetworkManager's dispatcher script runs vips up; no ifcfg alias files",
                NetworkStack::Initscripts => {
                    "ifcfg alias files (ONPARENT=no); the ifup-local block runs vips up after ifup"
                }
            };
            text += &format!("  {stack}: {after}\n");
        }
    }
    text += "\nA change: install the new files, run steps.enable, then steps.apply: VIPs that left go down\n\
             while their old rules hold (all VIPs when the dialect cannot reload atomically), the new rules\n\
             load, the VIPs come up behind them.\n\n\
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
