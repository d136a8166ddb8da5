"""Real el9-class hosts for the harness (scripts/realhost/lib.sh's containers) seen from
Python: their shell, their `vips status`, NetworkManager's profile, the install from
index.json, and the segment as the client sees it (ARP asked and captured from power-on).
Shared by scripts/realhost/check (one host through every event) and
scripts/realhost/cluster (the whole cluster live, directors included).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .netns import ASKER, SOLICITER, family, nd_answers, nd_leaks
from .runner import CheckError

ROOT = Path(__file__).resolve().parent.parent.parent
LIB = ROOT / "scripts/realhost/lib.sh"


def rh(*args, check=True, input=None):
    """A function of scripts/realhost/lib.sh."""
    res = subprocess.run(["bash", "-c", 'source "$0"; "$@"', str(LIB), *args], capture_output=True, text=True,
                         input=input)
    if check and res.returncode != 0:
        raise CheckError(f"{' '.join(args)}: exit {res.returncode}: {(res.stderr or res.stdout).strip()[-800:]}")
    return res


def sh(host, script, check=True):
    return rh("rh_sh", host, script, check=check)


def vips_ok(host):
    res = sh(host, "/usr/libexec/lvsdr/vips status --json", check=False)
    try:
        status = json.loads(res.stdout)
    except ValueError:
        return False, res.stdout + res.stderr
    return status["ok"], status


def profile_active(host):
    """eth0 is the admin's keyfile profile, activated by NetworkManager, with the real IP."""
    state = sh(host, "nmcli -g GENERAL.STATE device show eth0", check=False).stdout.strip()
    keyfile_uuid = sh(host, "sed -n 's/^uuid=//p' /etc/NetworkManager/system-connections/eth0.nmconnection",
                      check=False).stdout.strip()
    active_uuid = sh(host, "nmcli -g GENERAL.CON-UUID device show eth0", check=False).stdout.strip()
    if not state.startswith("100") or "externally" in state or active_uuid != keyfile_uuid:
        return False, f"eth0 is '{state}', active connection {active_uuid or 'none'}, the admin's is {keyfile_uuid}"
    return True, state


def wait_repaired(host, limit=10.0):
    start = time.monotonic()
    while True:
        ok, detail = vips_ok(host)
        if ok:
            return time.monotonic() - start
        if time.monotonic() - start > limit:
            raise CheckError(f"VIPs not back behind their rules within {limit} s: {detail}")
        time.sleep(0.05)


def install(host, tree, server, enable=True):
    """The host's files at their install paths with their modes, then steps.enable."""
    for art in server["artifacts"]:
        if art["install"] != "file":
            continue
        rh("rh_copy_in", host, str(tree / art["path"]), art["install_path"])
        sh(host, f"chmod {art['mode']} {art['install_path']}")
        if art["install_path"] == "/etc/systemd/system/lvsdr-vips.service":
            # The harness's one change: a container has no udev, so systemd never has the
            # interface's device unit and the unit's binding to it could never be met.
            sh(host, f"sed -i 's/ sys-subsystem-net-devices-[^ ]*[.]device//' {art['install_path']}")
    if enable:
        for step in server["steps"]["enable"]:
            rh("rh_exec", host, *step["argv"])


class Segment:
    """The client's view of the segment: every VIP asked for every 50 ms, all ARP captured;
    with IPv6 VIPs, each solicited every 50 ms too (with `also6`, addresses whose answers
    prove the capture sees), all ICMPv6 captured."""

    def __init__(self, vips, also6=()):
        four, six = family(vips, False), family(vips, True)
        self.file = tempfile.NamedTemporaryFile(prefix="lvsdr-realhost-arp-", suffix=".txt", delete=False)
        self.file6 = tempfile.NamedTemporaryFile(prefix="lvsdr-realhost-nd-", suffix=".txt", delete=False)
        self.procs = [subprocess.Popen(["ip", "netns", "exec", "lvh-client", "tcpdump", "-l", "-n", "-e", "-i", "eth0",
                                        "arp"], stdout=self.file, stderr=subprocess.DEVNULL, start_new_session=True)]
        if four:
            self.procs.append(subprocess.Popen(["ip", "netns", "exec", "lvh-client", sys.executable, "-c", ASKER,
                                                "eth0", "10.77.0.2", "0.05", *four], start_new_session=True))
        if six:
            self.procs.append(subprocess.Popen(["ip", "netns", "exec", "lvh-client", "tcpdump", "-l", "-n", "-e", "-i",
                                                "eth0", "icmp6"], stdout=self.file6, stderr=subprocess.DEVNULL,
                                               start_new_session=True))
            self.procs.append(subprocess.Popen(["ip", "netns", "exec", "lvh-client", sys.executable, "-c", SOLICITER,
                                                "eth0", "fd77::2", "0.05", *six, *also6], start_new_session=True))
        time.sleep(1)

    def text(self):
        return Path(self.file.name).read_text()

    def text6(self, mac):
        """The ICMPv6 `mac` sent, as tcpdump prints it without -e (what netns's judges read)."""
        lines = []
        for line in Path(self.file6.name).read_text().splitlines():
            m = re.match(r"(\S+) (\S+) > \S+, ethertype IPv6 \(0x86dd\), length \d+: (.*)", line)
            if m and m[2].lower() == mac:
                lines.append(f"{m[1]} IP6 {m[3]}")
        return "\n".join(lines)

    def stop(self):
        for p in reversed(self.procs):
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()
        for f in (self.file, self.file6):
            Path(f.name).unlink(missing_ok=True)


def nd_judge(text6, vips, real6, windows):
    """From one host's ICMPv6 (`Segment.text6`): no solicitation from a VIP or probe for one
    ever; an advertisement of a VIP only inside the window of an event in FLUSHING
    (WINDOWS as for judge_leaks; none for the switches' dialect, whose VIPs are on lo);
    the real address answered (the capture sees). Returns (advertisements per event, the
    real address's advertisements)."""
    sent = [line for line in nd_leaks(text6, vips) if "solicitation" in line]
    if sent:
        raise CheckError(f"a solicitation from (or probing) an IPv6 VIP: {sent[0]}")
    by_event, outside = in_flush_windows(nd_answers(text6, vips), windows)
    if outside:
        raise CheckError(f"{len(outside)} advertisement(s) of an IPv6 VIP outside any flush's window: "
                         + "; ".join(outside[:3]))
    real = nd_answers(text6, [real6])
    if not real:
        raise CheckError(f"no advertisement of the real {real6} either: the capture proves nothing")
    return by_event, real


def leaks(text, mac, vips):
    """ARP from `mac` that answers for a VIP or carries a VIP as sender."""
    found = []
    for line in text.splitlines():
        # tcpdump -e: "TIME SRC-MAC > DST-MAC, ethertype ARP ...".
        words = line.lower().split()
        if len(words) < 2 or words[1] != mac:
            continue
        for v in vips:
            if re.search(rf"Reply {re.escape(v)} is-at", line) or re.search(rf"tell {re.escape(v)}(,|$| )", line):
                found.append(line.strip())
    return found


# What other programs and operators do to a running real server, in an order each can
# follow the last: (name, command).
EVENTS = [
    ("nmcli device reapply eth0", "nmcli device reapply eth0"),
    ("nmcli connection up eth0", "nmcli connection up eth0"),
    ("systemctl restart NetworkManager", "systemctl restart NetworkManager"),
    ("firewall-cmd --reload", "firewall-cmd --reload"),
    ("systemctl restart firewalld", "systemctl restart firewalld"),
    ("systemctl start nftables (stops firewalld)", "systemctl start nftables"),
    ("systemctl reload nftables", "systemctl reload nftables"),
    ("systemctl stop nftables", "systemctl stop nftables"),
    ("systemctl start firewalld", "systemctl start firewalld"),
    ("nft flush ruleset", "nft flush ruleset"),
]

# The events that take lvsdr's rules away, until the guard or the drop-in loads them again.
# (A reload is not among them: the drop-in reloads lvsdr's table in the same transaction.)
FLUSHING = {"systemctl stop nftables", "nft flush ruleset", "systemctl start nftables (stops firewalld)"}


def seconds_of_day(stamp):
    """Seconds since midnight, local time: of tcpdump's HH:MM:SS.ffffff, or of a time.time()."""
    if isinstance(stamp, float):
        t = time.localtime(stamp)
        return t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec + stamp % 1
    h, m, sec = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec)


def mac_of(address):
    a = [int(x) for x in address.split(".")]
    return f"52:54:00:4d:{a[2]:02x}:{a[3]:02x}"


def in_flush_windows(lines, windows):
    """Captured LINES (tcpdump's time first) by the event in FLUSHING whose window (WINDOWS:
    (event, start, end) in time.time()) holds them: ({event: lines}, lines outside any)."""
    by_event, outside = {}, []
    for line in lines:
        at = seconds_of_day(line.split()[0])
        hit = [w for w in windows if w[0] in FLUSHING and seconds_of_day(w[1]) <= at <= seconds_of_day(w[2]) + 0.1]
        if hit:
            by_event.setdefault(hit[0][0], []).append(line)
        else:
            outside.append(line)
    return by_event, outside


def judge_leaks(text, mac, vips, windows):
    """The capture TEXT judged for the host with MAC: raises CheckError on any ARP with a VIP
    as sender, or a reply for a VIP outside the window of an event in FLUSHING (WINDOWS:
    (event, start, end) in time.time()); returns (replies per event, worst window)."""
    found = leaks(text, mac, vips)
    senders = [line for line in found if " tell " in line]
    if senders:
        raise CheckError(f"{len(senders)} ARP packet(s) with a VIP as sender: " + "; ".join(senders[:3]))
    by_event, outside = in_flush_windows([line for line in found if "Reply" in line], windows)
    if outside:
        raise CheckError(f"{len(outside)} ARP repl(ies) for a VIP outside any flush's window: " + "; ".join(outside[:3]))
    worst = max((w[2] - w[1] for w in windows if w[0] in FLUSHING), default=0)
    return by_event, worst
