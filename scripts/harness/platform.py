"""The harness's model of the platforms, from Python: index.json's steps and a host's vips
script run through scripts/lib/platform.sh, as on the host.
"""

import os

from .runner import ROOT, check, run

LIB = ROOT / "scripts" / "lib" / "platform.sh"


def platform_lib(*args, **kw):
    """A function of the shared test library scripts/lib/platform.sh."""
    return run(["sh", str(LIB), *args], **kw)


def host_root(tree, host):
    """The host's root overlay: its directory of the tree (install path /x is root/x)."""
    return tree / host["name"]


def rules_artifacts(host):
    """The dialect's rules files: their kind is the dialect's name."""
    return [a for a in host["artifacts"] if a["kind"] == host["arp_suppression"]]


def run_steps(ns, tree, server, *phases, check=True):
    """Runs index.json's steps of the given phases in order, as the platform would (the
    library emulates services); the last step's result."""
    res = None
    for phase in phases:
        for step in server["steps"][phase]:
            res = platform_lib("lvsdr_run_step", str(host_root(tree, server)), ns.name, *step["argv"], check=check)
    return res


def vips_script(ns, tree, server, command, check=False):
    return platform_lib("lvsdr_run_step", str(host_root(tree, server)), ns.name, "/usr/libexec/lvsdr/vips", command,
                        check=check)


def artifact(server, kind):
    return [a for a in server["artifacts"] if a["kind"] == kind]


def boot(srv, tree, server, iface, cidr):
    """The platform's boot from index.json: steps before the network, the interface (with
    the server's IPv6 address too, where it has one), steps after."""
    run_steps(srv, tree, server, "boot_before_network")
    srv("ip", "link", "set", iface, "up")
    srv("ip", "addr", "add", cidr, "dev", iface)
    if server.get("address6"):
        srv("ip", "addr", "add", server["address6"], "dev", iface, "nodad")
    return run_steps(srv, tree, server, "boot_after_network", check=False)


def nm_emulation(server=None):
    """No override of what the harness's nmcli says: platform.sh's lvsdr_nm_state derives
    it from the host's tree (NetworkManager activated the interface on a NetworkManager
    host, leaves it unmanaged on any other), and no connection configures a VIP."""
    os.environ.pop("LVSDR_NM_STATE", None)
    os.environ.pop("LVSDR_NM_ADDRESSES", None)


def installed(ns, tree, server, *cmd):
    """Runs cmd in the namespace as on the host, where the host's own scripts call
    /usr/libexec/lvsdr/vips by its install path: the tree's vips script is mounted there
    in a private mount namespace (the library's lvsdr_installed)."""
    return platform_lib("lvsdr_installed", str(host_root(tree, server)), ns.name, *cmd, check=False)
