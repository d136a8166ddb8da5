"""Test hosts as network namespaces: a server and its neighbour on a veth pair, ARP (and
ICMPv6) captured on the neighbour's side, and the addresses a namespace holds.
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


def pair(server_if, server_cidr, neighbour_cidr, configure=True, server_cidr6=None, neighbour_cidr6=None):
    """A server namespace and a neighbour namespace joined by a veth pair; the server's
    interface is configured unless a boot will do it. IPv6 addresses are added without
    duplicate address detection, so they are usable at once."""
    srv, nb = Netns("rs"), Netns("nb")
    for ns in (srv, nb):
        # No duplicate address detection for the link-local addresses either: a solicitation
        # needs a usable source at once.
        ns("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0")
    run(["ip", "link", "add", server_if, "netns", srv.name, "type", "veth", "peer", "name", "nb0", "netns", nb.name])
    srv("ip", "link", "set", "lo", "up")
    if configure:
        srv("ip", "link", "set", server_if, "up")
        srv("ip", "addr", "add", server_cidr, "dev", server_if)
        if server_cidr6:
            srv("ip", "addr", "add", server_cidr6, "dev", server_if, "nodad")
    nb("ip", "link", "set", "nb0", "up")
    nb("ip", "addr", "add", neighbour_cidr, "dev", "nb0")
    if neighbour_cidr6:
        nb("ip", "addr", "add", neighbour_cidr6, "dev", "nb0", "nodad")
    return srv, nb


def host_prefix(vip):
    """The prefix a VIP has on a real server: /32, or /128 for IPv6."""
    return 128 if ":" in vip else 32


def family(vips, six):
    """The IPv6 VIPs of a list (six), or the IPv4 ones."""
    return [v for v in vips if (":" in v) == six]


def neighbour_address(net, taken):
    for host in net.hosts():
        if host not in taken:
            return host
    raise CheckError(f"no free address in {net} for the neighbour")


class Capture:
    """tcpdump of ARP (or another filter's packets, icmp6) on the neighbour's side."""

    def __init__(self, nb, expression="arp"):
        self.file = tempfile.NamedTemporaryFile(prefix="lvsdr-arp-", suffix=".txt", delete=False)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", nb.name, "tcpdump", "-l", "-n", "-i", "nb0", expression],
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
    """(address, prefix, label) of every IPv4 and global IPv6 address in the namespace (or
    on iface); IPv6 addresses have no label."""
    cmd = ["ip", "-o", "addr", "show"] + (["dev", iface] if iface else [])
    found = []
    for line in ns(*cmd).stdout.splitlines():
        words = line.split()
        if "inet" in words:
            i = words.index("inet")
            addr, prefix = words[i + 1].split("/")
            label = words[words.index("global") + 1].rstrip("\\") if "global" in words else None
            found.append((addr, int(prefix), label if label and ":" in label else None))
        elif "inet6" in words and "global" in words:
            addr, prefix = words[words.index("inet6") + 1].split("/")
            found.append((addr, int(prefix), None))
    return found


def vips_up(ns, server, iface):
    """The VIPs up as index.json says: /32 (IPv6: /128, deprecated, so never a source) on
    the interface, with their labels where they have one."""
    have = addresses(ns, iface)
    for v in server["vips"]:
        want = (v["address"], host_prefix(v["address"]), v.get("label"))
        if want not in have:
            raise CheckError(f"VIP {v['address']} not up as /{want[1]}{' labelled ' + v['label'] if v.get('label') else ''}: {have}")
        if [a for a in have if a[0] == v["address"]] != [want]:
            raise CheckError(f"VIP {v['address']} is up more than once: {have}")
    six = family([v["address"] for v in server["vips"]], True)
    if six:
        lines = ns("ip", "-6", "-o", "addr", "show", "dev", iface).stdout.splitlines()
        for v in six:
            line = next(l for l in lines if f" {v}/128 " in l)
            if " deprecated" not in line or " tentative" in line:
                raise CheckError(f"IPv6 VIP {v} is not deprecated and usable (preferred_lft 0, past DAD): {line}")


def no_vip_up(ns, server, only=None):
    """No VIP of the server (or of `only`) is up."""
    watched = set(only) if only is not None else {v["address"] for v in server["vips"]}
    up = [a for a, _, _ in addresses(ns) if a in watched]
    if up:
        raise CheckError(f"VIP(s) {', '.join(up)} up")


def flush_rules(ns):
    """What a firewalld-style flush or a stopped service leaves: no ARP (or ND) rules at all."""
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


def nd_answers(text, vips):
    """Neighbour Advertisements for a VIP in an icmp6 capture: what a host that answers
    for the VIP sends."""
    return [line for line in text.splitlines()
            if any(re.search(rf"neighbor advertisement, tgt is {re.escape(v)},", line) for v in vips)]


def nd_leaks(text, vips):
    """What binds a VIP to a real server's MAC on the segment: an advertisement of it, or a
    solicitation sent from it (its source link-layer option); and the probe of duplicate
    address detection for it (source ::), which a director would answer."""
    found = nd_answers(text, vips)
    for line in text.splitlines():
        if "neighbor solicitation" not in line:
            continue
        source = line.split(" > ")[0].split()[-1]
        if source in vips or (source == "::" and any(f"who has {v}," in line for v in vips)):
            found.append(line.strip())
    return found


def kernel_nd_from(srv, vip, neighbour):
    """Make the server's kernel solicit the neighbour for a packet sourced from the VIP."""
    srv("ip", "-6", "neigh", "flush", "all", check=False)
    srv("python3", "-c",
        "import socket,sys;s=socket.socket(socket.AF_INET6);s.bind((sys.argv[1],0));s.settimeout(1);"
        "s.connect_ex((sys.argv[2],9))", vip, str(neighbour))


# In a namespace: a Neighbour Solicitation for each address every INTERVAL seconds from
# IFACE and SOURCE, until killed (or once, with INTERVAL 0), to each one's solicited-node
# group, as a host resolving it sends (the kernel fills in the checksum):
#   python3 -c SOLICITER IFACE SOURCE INTERVAL ADDRESS...
SOLICITER = r"""
import ipaddress, socket, struct, sys, time
iface, source, interval, targets = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
index = socket.if_nametoindex(iface)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
s.bind((source, 0, 0, index))
messages = []
for t in targets:
    packed = ipaddress.IPv6Address(t).packed
    group = "ff02::1:ff" + packed[13:].hex()[:2] + ":" + packed[14:].hex()
    messages.append((struct.pack("!BBHI", 135, 0, 0, 0) + packed + b"" + mac, group))
while True:
    for message, group in messages:
        s.sendto(message, (group, 0, 0, index))
    if interval == 0:
        break
    time.sleep(interval)
"""
