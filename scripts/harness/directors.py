"""Director files: keepalived -t, lvs.cf's keys, and the IPVS table each describes, equal
to the ipvsadm file's.
"""

import json
import re
import tempfile

from .netns import Netns
from .platform import artifact
from .runner import CheckError, run

# ADDRESS:PORT as ipvsadm-save -n prints it: a dotted quad, or IPv6 in brackets.
ENDPOINT = r"(?:\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\]):\d+"

SAVE_SERVICE = re.compile(rf"-A -([tu]) ({ENDPOINT}) -s ([a-z]+)(?: -p (\d+))?")

SAVE_REAL = re.compile(rf"-a -([tu]) ({ENDPOINT}) -r ({ENDPOINT}) -g -w (\d+)")


def endpoint(address, port):
    """ADDRESS:PORT as ipvsadm-save -n prints it."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def table_from_save(text):
    """The table in `ipvsadm-save -n` lines; any other line is an error."""
    services, reals = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if m := SAVE_SERVICE.fullmatch(line):
            key = ("tcp" if m[1] == "t" else "udp", m[2])
            if key in services:
                raise CheckError(f"line {n}: service {key} added twice")
            services[key] = (m[3], int(m[4] or 0))
            reals[key] = set()
        elif m := SAVE_REAL.fullmatch(line):
            key = ("tcp" if m[1] == "t" else "udp", m[2])
            if key not in services:
                raise CheckError(f"line {n}: real server before its service")
            reals[key].add((m[3], int(m[4])))
        else:
            raise CheckError(f"line {n} is not an ipvsadm-save -n line: {line!r}")
    return {(*key, *services[key], frozenset(reals[key])) for key in services}


def ipvsadm_file(tree, director):
    return (tree / artifact(director, "ipvsadm")[0]["path"]).read_text()


def same_table(table, tree, director, source):
    expected = table_from_save(ipvsadm_file(tree, director))
    if table != expected:
        raise CheckError(f"{source} describes {sorted(map(str, table - expected))}, the ipvsadm file "
                         f"{sorted(map(str, expected - table))}")
    return f"{len(table)} services, {sum(len(s[-1]) for s in table)} real servers"


def director_vips(director):
    return {(v["address"], v.get("label")) for v in director["vips"]}


def parse_blocks(text):
    """keepalived.conf as nested lists: each item a (words, children-or-None)."""
    root, stack = [], []
    current = root
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "}":
            if not stack:
                raise CheckError(f"line {n}: '}}' closes nothing")
            current = stack.pop()
        elif line.endswith("{"):
            children = []
            current.append((line[:-1].split(), children))
            stack.append(current)
            current = children
        else:
            current.append((line.split(), None))
    if stack:
        raise CheckError("a block is not closed")
    return root


def keepalived_test(tree, director, text):
    ns = Netns("ka")
    try:
        # The director's interface exists here, so keepalived has nothing to warn about.
        run(["ip", "link", "add", director["interface"], "netns", ns.name, "type", "veth", "peer", "name", "ka0", "netns", ns.name])
        # And the interfaces its VRRP instances track.
        tracked = {c[0][0] for block, children in parse_blocks(text) if block[0] == "vrrp_instance"
                   for words, kids in children if words[0] == "track_interface" for c in kids}
        for n, name in enumerate(sorted(tracked - {director["interface"]})):
            run(["ip", "link", "add", name, "netns", ns.name, "type", "veth", "peer", "name", f"kt{n}", "netns", ns.name])
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
            conf.write(text)
            conf.flush()
            res = ns("keepalived", "-t", "-f", conf.name, check=False)
        if res.returncode == 0:
            return None
        # One note is expected: a service whose real servers all have weight 0 (drained,
        # W0003's sibling W0004) makes keepalived reduce its quorum to 0, and says so.
        drained = {f"[{addr.rsplit(':', 1)[0].strip('[]')}]:{proto}:{addr.rsplit(':', 1)[1]}"
                   for proto, addr, _, _, reals in table_from_save(ipvsadm_file(tree, director))
                   if reals and all(weight == 0 for _, weight in reals)}
        # The other: a quorum above the real servers' total weight (W0005), which keepalived
        # lowers to that total.
        lowered = {}
        for words, children in parse_blocks(text):
            if words[0] != "virtual_server":
                continue
            keys = {c[0][0]: c[0][1:] for c in children}
            total = sum(int(next(c[0][1] for c in kids if c[0][0] == "weight"))
                        for w, kids in children if w[0] == "real_server")
            if "quorum" in keys and int(keys["quorum"][0]) > total > 0:
                lowered[f"{endpoint(words[1], words[2])}"] = (keys["quorum"][0], str(total))
        lines = [l for l in (res.stderr + res.stdout).splitlines() if l.strip()]
        expected = re.compile(r"Warning - quorum 1 for (\S+) exceeds total weight of real servers 0, reducing quorum to 0"
                              r"|Virtual server (\S+): hysteresis 0 >= quorum 0; setting hysteresis to 4294967295")
        quorum_note = re.compile(r"Warning - quorum (\d+) for \[(\S+)\]:(tcp|udp):(\d+) exceeds total weight of real "
                                 r"servers (\d+), reducing quorum to (\d+)")

        def explained(line):
            if (m := expected.fullmatch(line.strip())) and (m[1] or m[2]) in drained:
                return True
            m = quorum_note.fullmatch(line.strip())
            return bool(m) and lowered.get(endpoint(m[2], m[4])) == (m[1], m[5]) and m[5] == m[6]
        other = [l for l in lines if not explained(l)]
        if other or not lines:
            raise CheckError(f"exit {res.returncode}: {(res.stderr or res.stdout).strip()}")
        notes = [f"the drained service(s) {', '.join(sorted(drained))}"] if drained else []
        notes += [f"{k}'s quorum {q} lowered to {t} (W0005)" for k, (q, t) in sorted(lowered.items())]
        return "only keepalived's quorum notes: " + "; ".join(notes)
    finally:
        ns.delete()


def keepalived_table(tree, director, text):
    table = set()
    for words, children in parse_blocks(text):
        if words[0] != "virtual_server":
            continue
        keys = {c[0][0]: c[0][1:] for c in children}
        if keys.get("lb_kind") != ["DR"]:
            raise CheckError(f"virtual_server {words[1:]} is not lb_kind DR")
        reals = frozenset(
            (endpoint(w[1], w[2]), int(next(c[0][1] for c in kids if c[0][0] == "weight")))
            for w, kids in children if w[0] == "real_server")
        table.add((keys["protocol"][0].lower(), endpoint(words[1], words[2]), keys["lb_algo"][0],
                   int(keys.get("persistence_timeout", ["0"])[0]), reals))
    return same_table(table, tree, director, "keepalived.conf")


def keepalived_vips(tree, director, text):
    found = set()
    for block, children in parse_blocks(text):
        if block[0] == "vrrp_instance":
            if next(c[0][1] for c in children if c[0][0] == "interface") != director["interface"]:
                raise CheckError("the VRRP instance is not on the director's interface")
            families = set()
            for w, kids in children:
                if w[0] == "virtual_ipaddress":
                    for words, _ in kids:
                        addr, rest = words[0], words[1:]
                        label = rest[3] if len(rest) == 4 and rest[2] == "label" else None
                        host = "/128" if ":" in addr else "/32"
                        if not addr.endswith(host) or rest[:2] != ["dev", director["interface"]] or len(rest) not in (2, 4):
                            raise CheckError(f"{addr} is not a {host} on {director['interface']}")
                        families.add(host)
                        found.add((addr[:-len(host)], label))
            # keepalived: one instance, one address family (IPv6 with VRRP version 3).
            if len(families) > 1:
                raise CheckError(f"VRRP instance {block[1]} holds VIPs of both families")
            if families == {"/128"} and ["version", "3"] not in [c[0] for c in children]:
                raise CheckError(f"VRRP instance {block[1]} holds IPv6 VIPs without version 3")
    if found != director_vips(director):
        raise CheckError(f"VRRP brings up {sorted(found)}, index.json lists {sorted(director_vips(director))}")
    return f"{len(found)} VIPs"


# Keys of lvs.cf(5) by level; every generated key must be one of them.
LVS_CF_GLOBAL = {"serial_no", "primary", "primary_private", "service", "backup_active", "backup", "backup_private",
                 "heartbeat", "heartbeat_port", "keepalive", "deadtime", "network", "nat_router", "nat_nmask",
                 "debug_level", "monitor_links", "syncdaemon", "tcp_timeout", "tcpfin_timeout", "udp_timeout"}

LVS_CF_VIRTUAL = {"active", "address", "vip_nmask", "fwmark", "port", "persistent", "pmask", "send", "expect",
                  "send_program", "use_regex", "load_monitor", "scheduler", "protocol", "timeout",
                  "reentry", "quiesce_server"}

LVS_CF_SERVER = {"address", "active", "weight"}


def parse_lvs_cf(text):
    """lvs.cf as (globals, [(name, keys, [(name, keys)])]), checking every key."""
    globals_, virtuals = {}, []
    virtual = server = None
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if m := re.fullmatch(r"\s*(virtual|server) ([a-z0-9-]+) \{", line):
            if m[1] == "virtual" and virtual is None:
                virtual = (m[2], {}, [])
            elif m[1] == "server" and virtual is not None and server is None:
                server = (m[2], {})
            else:
                raise CheckError(f"line {n}: {m[1]} block in the wrong place")
        elif words == ["}"]:
            if server is not None:
                virtual[2].append(server)
                server = None
            elif virtual is not None:
                virtuals.append(virtual)
                virtual = None
            else:
                raise CheckError(f"line {n}: '}}' closes nothing")
        elif m := re.fullmatch(r"\s*([a-z_]+) = (.+)", line):
            level, known = ((server[1], LVS_CF_SERVER) if server else (virtual[1], LVS_CF_VIRTUAL) if virtual
                            else (globals_, LVS_CF_GLOBAL))
            if m[1] not in known:
                raise CheckError(f"line {n}: {m[1]} is not a key of lvs.cf(5) at this level")
            if m[1] in level:
                raise CheckError(f"line {n}: {m[1]} given twice")
            level[m[1]] = m[2]
        else:
            raise CheckError(f"line {n} is not a lvs.cf line: {line!r}")
    if virtual is not None:
        raise CheckError("a block is not closed")
    return globals_, virtuals


def lvs_cf_globals(tree, director, text):
    g, _ = parse_lvs_cf(text)
    want = {"service": "lvs", "network": "direct"}
    for key, value in want.items():
        if g.get(key) != value:
            raise CheckError(f"{key} = {g.get(key)}, want {value}")
    if not g.get("serial_no", "").isdigit():
        raise CheckError("serial_no is not a number")
    # Both directors of a pair name the same primary: the first director of the manifest.
    primary = json.loads((tree / "index.json").read_text())["directors"][0]["address"].split("/")[0]
    if g.get("primary") != primary:
        raise CheckError(f"primary = {g.get('primary')}, the first director is {primary}")
    return f"serial_no {g['serial_no']}, primary {primary}, backup_active {g.get('backup_active')}"


def lvs_cf_table(tree, director, text):
    _, virtuals = parse_lvs_cf(text)
    table, vips = set(), set()
    for name, keys, servers in virtuals:
        vip, label = keys["address"].split()
        vips.add((vip, label))
        reals = frozenset((f"{s['address']}:{keys['port']}", int(s["weight"])) for _, s in servers)
        table.add((keys["protocol"], f"{vip}:{keys['port']}", keys["scheduler"], int(keys.get("persistent", 0)), reals))
    if not vips <= director_vips(director):
        raise CheckError(f"virtual addresses {sorted(vips - director_vips(director))} are not the director's VIPs")
    return same_table(table, tree, director, "lvs.cf")

def index_services(tree):
    return json.loads((tree / "index.json").read_text())["services"]


def modules_load(tree, director, text):
    """modules-load.d(5): one module per line; IPVS and exactly the schedulers in use."""
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith(("#", ";"))]
    want = {"ip_vs"} | {f"ip_vs_{s['scheduler']}" for s in index_services(tree)}
    if len(lines) != len(set(lines)) or set(lines) != want:
        raise CheckError(f"modules {lines}, want {sorted(want)}")
    if bad := [l for l in lines if not re.fullmatch(r"[a-z0-9_]+", l)]:
        raise CheckError(f"not module names: {bad}")
    return f"{', '.join(lines)}"


def firewalld_service(tree, director, text):
    """firewalld's service XML: protocol vrrp, and exactly the services' ports."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text)
    if root.tag != "service":
        raise CheckError(f"root element {root.tag}, want service")
    protocols = [e.get("value") for e in root.findall("protocol")]
    ports = {(e.get("protocol"), e.get("port")) for e in root.findall("port")}
    want = {(s["protocol"], str(s["port"]) if s["port"] else "1-65535") for s in index_services(tree)}
    if protocols != ["vrrp"] or ports != want:
        raise CheckError(f"protocols {protocols}, ports {sorted(ports)}; want ['vrrp'], {sorted(want)}")
    return f"vrrp and {len(ports)} port(s) (firewall-offline-cmd checks it in scripts/realhost/firewalld)"


DIRECTOR_CHECKS = {
    "modules-load": [("IPVS and the schedulers in use", modules_load)],
    "firewalld-service": [("VRRP and the services' ports", firewalld_service)],
    "keepalived": [("keepalived -t -f, no warnings", keepalived_test),
                   ("virtual_servers equal the ipvsadm file", keepalived_table),
                   ("VRRP VIPs and labels equal index.json", keepalived_vips)],
    "lvs.cf": [("keys of lvs.cf(5), network = direct, primary", lvs_cf_globals),
               ("virtual blocks equal the ipvsadm file", lvs_cf_table)],
    "ipvsadm": [("ipvsadm-save -n grammar", lambda tree, director, text: f"{len(table_from_save(text))} services")],
}
