"""Test hosts as network namespaces: a server and its neighbour on a veth pair, ARP
captured on the neighbour's side, and the addresses a namespace holds.
"""

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from .runner import CheckError, TAG, check, run


class Netns:
    """A network namespace we created, deleted on exit."""

    count = 0

    def __init__(self, role):
        Netns.count += 1
        self.name = f"{TAG}-{role}{Netns.count}"
        run(["ip", "netns", "add", self.name])

    def __call__(self, *cmd, check=True, **kw):
        return run(["ip", "netns", "exec", self.name, *cmd], check=check, **kw)

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)


def pair(server_if, server_cidr, neighbour_cidr, configure=True):
    """A server namespace and a neighbour namespace joined by a veth pair; the server's
    interface is configured unless a boot will do it."""
    srv, nb = Netns("rs"), Netns("nb")
    run(["ip", "link", "add", server_if, "netns", srv.name, "type", "veth", "peer", "name", "nb0", "netns", nb.name])
    srv("ip", "link", "set", "lo", "up")
    if configure:
        srv("ip", "link", "set", server_if, "up")
        srv("ip", "addr", "add", server_cidr, "dev", server_if)
    nb("ip", "link", "set", "nb0", "up")
    nb("ip", "addr", "add", neighbour_cidr, "dev", "nb0")
    return srv, nb


def neighbour_address(net, taken):
    for host in net.hosts():
        if host not in taken:
            return host
    raise CheckError(f"no free address in {net} for the neighbour")


class Capture:
    """tcpdump of ARP on the neighbour's side."""

    def __init__(self, nb):
        self.file = tempfile.NamedTemporaryFile(prefix="lvsdr-arp-", suffix=".txt", delete=False)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", nb.name, "tcpdump", "-l", "-n", "-i", "nb0", "arp"],
            stdout=self.file, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on" once the capture is live.
        lines = []
        while not lines or "listening" not in lines[-1]:
            line = self.proc.stderr.readline()
            if not line:
                raise CheckError(f"tcpdump did not start: {' '.join(lines)}")
            lines.append(line.strip())

    def text(self):
        """What it has captured so far."""
        self.file.flush()
        return Path(self.file.name).read_text()

    def stop(self):
        time.sleep(0.3)
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.file.close()
        text = Path(self.file.name).read_text()
        os.unlink(self.file.name)
        return text


def kernel_arp_from(srv, vip, neighbour):
    """Make the server's kernel resolve the neighbour for a packet sourced from the VIP."""
    srv("ip", "neigh", "flush", "all", check=False)
    srv("python3", "-c",
        "import socket,sys;s=socket.socket();s.bind((sys.argv[1],0));s.settimeout(1);s.connect_ex((sys.argv[2],9))",
        vip, str(neighbour))


def leaks(capture, vips):
    found = []
    for line in capture.splitlines():
        for vip in vips:
            if re.search(rf"tell {re.escape(vip)}(,|$| )", line) or re.search(rf"Reply {re.escape(vip)} is-at", line):
                found.append(line.strip())
    return found


def addresses(ns, iface=None):
    """(address, prefix, label) of every IPv4 address in the namespace (or on iface)."""
    cmd = ["ip", "-4", "-o", "addr", "show"] + (["dev", iface] if iface else [])
    found = []
    for line in ns(*cmd).stdout.splitlines():
        words = line.split()
        i = words.index("inet")
        addr, prefix = words[i + 1].split("/")
        label = words[words.index("global") + 1].rstrip("\\") if "global" in words else None
        found.append((addr, int(prefix), label if label and ":" in label else None))
    return found


def vips_up(ns, server, iface):
    """The VIPs up as index.json says: /32 on the interface, with their labels where they have one."""
    have = addresses(ns, iface)
    for v in server["vips"]:
        if (v["address"], 32, v.get("label")) not in have:
            raise CheckError(f"VIP {v['address']} not up as /32{' labelled ' + v['label'] if v.get('label') else ''}: {have}")
        if [a for a in have if a[0] == v["address"]] != [(v["address"], 32, v.get("label"))]:
            raise CheckError(f"VIP {v['address']} is up more than once: {have}")


def no_vip_up(ns, server):
    up = [a for a, _, _ in addresses(ns) if a in {v["address"] for v in server["vips"]}]
    if up:
        raise CheckError(f"VIP(s) {', '.join(up)} up")


def flush_rules(ns):
    """What a firewalld-style flush or a stopped service leaves: no ARP rules at all."""
    ns("nft", "flush", "ruleset", check=False)
    ns("arptables", "-F", check=False)


# The dialects that are no rules but the kernel's switches on the interface.
SWITCH_DIALECTS = {"sysctl"}


def take_away(ns, server):
    """What takes lvsdr's ARP suppression away from outside, by dialect: a flush of the
    rules (firewalld, nftables.service's stop, an operator), or, for the switches, the
    interface's arp_ignore and arp_announce put back to the kernel's defaults."""
    if server["arp_suppression"] in SWITCH_DIALECTS:
        for switch in ("arp_ignore", "arp_announce"):
            ns("sysctl", "-qw", f"net.ipv4.conf.{server['interface']}.{switch}=0")
    else:
        flush_rules(ns)


def answers(text, vips):
    """ARP replies for a VIP in a capture: what a host that answers for the VIP sends."""
    return [line for line in text.splitlines() if any(re.search(rf"Reply {re.escape(v)} is-at", line) for v in vips)]


# In a namespace: an ARP request for each VIP every INTERVAL seconds from IFACE and SOURCE,
# until killed (arping's interval and deadline take whole seconds only):
#   python3 -c ASKER IFACE SOURCE INTERVAL VIP...
ASKER = r"""
import socket, sys, time
iface, source, interval, vips = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
frames = [b"\xff" * 6 + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac
          + socket.inet_aton(source) + b"\x00" * 6 + socket.inet_aton(v) for v in vips]
while True:
    for f in frames:
        s.send(f)
    time.sleep(interval)
"""
