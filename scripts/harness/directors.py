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

# A service as ipvsadm-save -n names it: -t/-u ADDRESS:PORT, or a firewall mark (-f N, and
# -6 for an IPv6 one).
SERVICE = rf"(?:-([tu]) ({ENDPOINT})|-f (\d+)(?: -6)?)"

SAVE_SERVICE = re.compile(rf"-A {SERVICE} -s ([a-z]+)(?: -p (\d+))?")

SAVE_REAL = re.compile(rf"-a {SERVICE} -r ({ENDPOINT}) -g -w (\d+)")


def endpoint(address, port):
    """ADDRESS:PORT as ipvsadm-save -n prints it."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def service_key(m):
    """(protocol, ADDRESS:PORT), or ("fwmark", N) for a firewall-mark service."""
    if m[3] is not None:
        return ("fwmark", m[3])
    return ("tcp" if m[1] == "t" else "udp", m[2])


def table_from_save(text):
    """The table in `ipvsadm-save -n` lines; any other line is an error."""
    services, reals = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if m := SAVE_SERVICE.fullmatch(line):
            key = service_key(m)
            if key in services:
                raise CheckError(f"line {n}: service {key} added twice")
            services[key] = (m[4], int(m[5] or 0))
            reals[key] = set()
        elif m := SAVE_REAL.fullmatch(line):
            key = service_key(m)
            if key not in services:
                raise CheckError(f"line {n}: real server before its service")
            reals[key].add((m[4], int(m[5])))
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
        # virtual_server fwmark N: IPVS names it by the mark, whatever its protocol.
        key = ("fwmark", words[2]) if words[1] == "fwmark" else (keys["protocol"][0].lower(), endpoint(words[1], words[2]))
        table.add((*key, keys["lb_algo"][0], int(keys.get("persistence_timeout", ["0"])[0]), reals))
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
        # A firewall-mark service (fwmark = N) is IPVS's service N; its real servers' port is 0.
        port = "0" if "fwmark" in keys else keys["port"]
        reals = frozenset((f"{s['address']}:{port}", int(s["weight"])) for _, s in servers)
        key = ("fwmark", keys["fwmark"]) if "fwmark" in keys else (keys["protocol"], f"{vip}:{keys['port']}")
        table.add((*key, keys["scheduler"], int(keys.get("persistent", 0)), reals))
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


def xml_root(text, tag):
    """The root element of one of firewalld's XML files, which must be `tag`."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text)
    if root.tag != tag:
        raise CheckError(f"root element {root.tag}, want {tag}")
    return root


def firewalld_service(tree, director, text):
    """firewalld's service XML: protocol vrrp, and exactly the services' ports."""
    root = xml_root(text, "service")
    protocols = [e.get("value") for e in root.findall("protocol")]
    ports = {(e.get("protocol"), e.get("port")) for e in root.findall("port")}
    want = {(s["protocol"], p) for s in index_services(tree)
            for p in (s["ports"] if s.get("firewall_mark") else [str(s["port"]) if s["port"] else "1-65535"])}
    if protocols != ["vrrp"] or ports != want:
        raise CheckError(f"protocols {protocols}, ports {sorted(ports)}; want ['vrrp'], {sorted(want)}")
    return f"vrrp and {len(ports)} port(s) (firewall-offline-cmd checks it in scripts/realhost/firewalld)"


def want_marks(tree):
    """Every (vip, protocol, port or FIRST-LAST, mark) the firewall-mark services of
    index.json ask the directors to mark (a service without real servers is left out)."""
    return {(s["vip"], s["protocol"], ports, s["firewall_mark"])
            for s in index_services(tree) if s.get("firewall_mark") and s["real_servers"]
            for ports in s["ports"]}


def same_marks(found, tree, form, family=None):
    """FOUND equals index.json's marks (of one address family, 4 or 6, when given)."""
    want = {m for m in want_marks(tree) if family is None or (":" in m[0]) == (family == 6)}
    if found != want:
        raise CheckError(f"{form} marks {sorted(found - want)} beyond index.json, misses {sorted(want - found)}")
    return f"{len(found)} port(s) marked"


NFT_MARK = re.compile(r"\s*(ip6?) daddr (\S+) (tcp|udp) dport \{ ([0-9, -]+) \} meta mark set (\d+)")


def marks_nftables(tree, director, text):
    """The nft script: accepted by nft -c, its table replaced whole, the marks exactly index.json's."""
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as f:
        f.write(text)
        f.flush()
        run(["nft", "-c", "-f", f.name])
        # The promise that a load replaces the table: loaded twice (the unit's start, then
        # a reload), the namespace holds each rule once.
        ns = Netns("nftm")
        try:
            ns("nft", "-f", f.name)
            ns("nft", "-f", f.name)
            listed = ns("nft", "list", "table", "inet", "lvsdr_marks").stdout
        finally:
            ns.delete()
    if (rules := listed.count("meta mark set")) != text.count("meta mark set"):
        raise CheckError(f"loaded twice, the table holds {rules} mark rules, the file {text.count('meta mark set')}")
    lines = text.splitlines()
    if "delete table inet lvsdr_marks" not in lines:
        raise CheckError("the table is not replaced whole (no delete table inet lvsdr_marks)")
    found = set()
    for line in lines:
        if m := NFT_MARK.fullmatch(line):
            found |= {(m[2], m[3], p.strip(), int(m[5])) for p in m[4].split(",")}
        elif "meta mark" in line:
            raise CheckError(f"a mark rule of another shape: {line.strip()!r}")
    return same_marks(found, tree, "the nft script")


IPT_MARK = re.compile(r"-d (\S+)/(?:32|128) -p (tcp|udp) --dport (\d+(?::\d+)?) -j MARK --set-mark (\d+)")


def iptables_marks(rules):
    found = set()
    for rule in rules:
        m = IPT_MARK.fullmatch(rule)
        if not m:
            raise CheckError(f"a mark rule of another shape: {rule!r}")
        found.add((m[1], m[2], m[3].replace(":", "-"), int(m[4])))
    return found


def marks_iptables(tree, director, text, tool="iptables-restore", family=4):
    """iptables-restore --test --noflush accepts it (in a namespace of its own); lvsdr's
    chain only, one jump to it; with the other family's file, the marks are index.json's."""
    ns = Netns("ipt")
    legacy = tool.replace("-restore", "-legacy")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".rules") as f:
            f.write(text)
            f.flush()
            ns(tool, "--test", "--noflush", f.name)
            # The promise that a second load replaces the first: the loader's commands
            # (delete the last load's jump, then restore) run twice, as at a restart, with
            # the legacy iptables RHEL 4-7 have; the chain and its jump are there once.
            for _ in range(2):
                ns(legacy, "-t", "mangle", "-D", "PREROUTING", "-j", "LVSDR-MARKS", check=False)
                ns(f"{legacy}-restore", "--noflush", f.name)
            saved = ns(f"{legacy}-save", "-t", "mangle").stdout.splitlines()
    finally:
        ns.delete()
    jumps = saved.count("-A PREROUTING -j LVSDR-MARKS")
    marks = sum(1 for l in saved if l.startswith("-A LVSDR-MARKS "))
    if jumps != 1 or marks != text.count("\n-A LVSDR-MARKS "):
        raise CheckError(f"loaded twice: {jumps} jump(s) to LVSDR-MARKS and {marks} mark rule(s); want 1 and "
                         f"{text.count(chr(10) + '-A LVSDR-MARKS ')}")
    loaded = "loaded twice, each rule once"
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    if lines[:3] != ["*mangle", ":LVSDR-MARKS - [0:0]", "-A PREROUTING -j LVSDR-MARKS"] or lines[-1] != "COMMIT":
        raise CheckError(f"not lvsdr's chain of the mangle table: {lines[:3]} ... {lines[-1:]}")
    found = iptables_marks([l[len("-A LVSDR-MARKS "):] for l in lines[3:-1]])
    if any((":" in vip) != (family == 6) for vip, *_ in found):
        raise CheckError(f"a rule of the other family in the IPv{family} file")
    return same_marks(found, tree, f"the IPv{family} rules", family) + f" ({tool} --test; {loaded})"


def firewalld_direct(tree, director, text):
    """firewalld's direct.xml: mangle PREROUTING rules, the marks exactly index.json's."""
    root = xml_root(text, "direct")
    rules = root.findall("rule")
    for rule in rules:
        want_ipv = "ipv6" if ":" in rule.text.split()[1] else "ipv4"
        if (rule.get("ipv"), rule.get("table"), rule.get("chain")) != (want_ipv, "mangle", "PREROUTING"):
            raise CheckError(f"rule {rule.attrib} is not {want_ipv} mangle PREROUTING")
    return same_marks(iptables_marks([r.text for r in rules]), tree, "direct.xml") + \
        " (firewall-offline-cmd reads it in scripts/realhost/firewalld)"


def marks_unit(tree, director, text):
    """The unit loads each rules file of the director, before keepalived."""
    exec_lines = [l.split("=", 1)[1] for l in text.splitlines() if l.startswith("ExecStart=")]
    files = [a["install_path"] for a in director["artifacts"] if a["kind"] in ("marks-nftables", "marks-iptables", "marks-ip6tables")]
    if not files or any(not any(f in l for l in exec_lines) for f in files):
        raise CheckError(f"ExecStart {exec_lines} does not load {files}")
    if "Before=keepalived.service" not in text.splitlines():
        raise CheckError("not ordered before keepalived")
    return f"loads {', '.join(files)}"


def marks_init(tree, director, text):
    """The init script: POSIX sh syntax, chkconfig after iptables (08) and before pulse."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
        f.write(text)
        f.flush()
        run(["dash", "-n", f.name])
    if "# chkconfig: 2345 09 91" not in text.splitlines():
        raise CheckError("no chkconfig header ordering it after iptables")
    files = [a["install_path"] for a in director["artifacts"] if a["kind"] in ("marks-iptables", "marks-ip6tables")]
    if any(f"--noflush < {f}" not in text for f in files):
        raise CheckError(f"does not restore {files} from standard input")
    return f"restores {', '.join(files)}"
