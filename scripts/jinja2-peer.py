#!/usr/bin/env python3
"""The peer scripts/bench measures lvsdr against: what a site would run instead of lvsdr,
a Jinja2 renderer of the same artifact set from the same manifest.

    scripts/jinja2-peer.py MANIFEST OUT

It renders lvsdr's own templates (templates/, translated to Jinja2 syntax at start) for
every host, with the same file set, paths and modes as lvsdr's tree (scripts/bench checks
that), and writes an index.json listing each file with its SHA-256, as lvsdr does. It
validates nothing, plans only what the platforms' defaults give (every service checked
as lvsdr checks it by default, VRRP as lvsdr runs it by default, no sorry server or
quorum), and does not fsync: a fair and favourable peer. Its bytes differ from lvsdr's in
the values it does not compute as lvsdr does (the load commands, lvs.cf's serial number,
keepalived.conf's virtual_router_id, always 1).
"""

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace as Obj

from jinja2 import Environment, DictLoader

ROOT = Path(__file__).resolve().parent.parent

# askama → Jinja2: the constructs lvsdr's templates use that Jinja2 spells otherwise.
# In expressions (of tags and of `{{ }}`):
EXPRESSIONS = [
    (re.compile(r"!([\w.]+(?:\(\))?)\.is_empty\(\)"), r"\1"),
    (re.compile(r"([\w.]+(?:\(\))?)\.is_empty\(\)"), r"not \1"),
    (re.compile(r"([\w.]+)\.is_none\(\)"), r"\1 is none"),
    (re.compile(r"\.unwrap_or_default\(\)"), ' or ""'),
    (re.compile(r"\[(\w+)\.len\(\) - 1\]"), "[-1]"),
    (re.compile(r"\.len\(\)"), "|length"),
    # A method without arguments is an attribute of the view model; calls with
    # arguments are Jinja2's own.
    (re.compile(r"\.(\w+)\(\)"), r".\1"),
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), "not "),
    # An enum's variant is its name: the view model's enums compare equal to it.
    (re.compile(r"\b[A-Z]\w*::([A-Z]\w*)\b"), r'"\1"'),
]

# The statements, each to one or more Jinja2 statements.
IF_LET = re.compile(r"(else )?if let Some\((\w+)\) = (.+)", re.S)
LET = re.compile(r"let (\w+)(?: *: *[^=]+)? = (.+)", re.S)
# A match arm: `when None`, `when Some(x)`, `when _`, a literal, or `when Path::Variant`
# with `(a, b)` or `[with] { a, b: c, .. }` bindings.
WHEN_VARIANT = re.compile(r"(?:\w+::)*(\w+) *(?:\((?P<tuple>[^)]*)\)|(?:with *)?\{(?P<struct>[^}]*)\})? *$", re.S)
LITERAL = re.compile(r'^(?:"[^"]*"|-?\d+|true|false)$')


def expression(text):
    for pattern, replacement in EXPRESSIONS:
        text = pattern.sub(replacement, text)
    return text


def arm(pattern, subject):
    """The Jinja2 statements of one `when` arm of a match on `subject`."""
    if pattern == "_":
        return ["else"]
    if pattern == "None":
        return [f"elif {subject} is none"]
    if LITERAL.match(pattern):
        return [f"elif {subject} == {pattern}"]
    some = re.fullmatch(r"Some\((\w+)\)", pattern)
    if some:
        return [f"elif {subject} is not none", f"set {some.group(1)} = {subject}"]
    variant = WHEN_VARIANT.fullmatch(pattern)
    if not variant:
        raise ValueError(f"unknown match arm: when {pattern}")
    statements = [f'elif {subject}.kind == "{variant.group(1)}"']
    for i, name in enumerate(n.strip() for n in (variant.group("tuple") or "").split(",")):
        if name and name != "_":
            statements.append(f"set {name} = {subject}[{i}]")
    for field in (f.strip() for f in (variant.group("struct") or "").split(",")):
        if field and field != "..":
            name, _, binding = (part.strip() for part in field.partition(":"))
            if (binding or name) != "_":
                statements.append(f"set {binding or name} = {subject}.{name}")
    return statements


def statement(body, matches):
    """The Jinja2 statements of one askama statement; `matches` is the stack of the open
    matches' subjects."""
    if_let = IF_LET.fullmatch(body)
    if if_let:
        value = expression(if_let.group(3))
        return [f"{'elif' if if_let.group(1) else 'if'} {value}", f"set {if_let.group(2)} = {value}"]
    let = LET.fullmatch(body)
    if let:
        return [f"set {let.group(1)} = {expression(let.group(2))}"]
    keyword, _, rest = body.partition(" ")
    if keyword == "match":
        # Evaluated once; the text before the first arm is askama's to ignore.
        matches.append(f"_match{len(matches)}")
        return [f"set {matches[-1]} = {expression(rest)}", "if false"]
    if keyword == "when":
        return arm(rest.strip(), matches[-1])
    if keyword == "endmatch":
        matches.pop()
        return ["endif"]
    if keyword == "else" and rest.startswith("if "):
        return ["elif " + expression(rest[3:])]
    return [f"{keyword} {expression(rest)}".rstrip()]


TAG = re.compile(r"\{([{%])(-?)\s*(.*?)\s*(-?)([}%])\}", re.S)


def translate(text):
    # Only inside tags: the shell scripts' own `&&` and `!` stay as they are.
    matches = []

    def inside(tag):
        opening, left, body, right, closing = tag.groups()
        if opening == "{":
            return f"{{{{{left} {expression(body)} {right}}}}}"
        statements = statement(body, matches)
        last = len(statements) - 1
        return "".join(f"{{%{left if i == 0 else ''} {s} {right if i == last else ''}%}}"
                       for i, s in enumerate(statements))

    return TAG.sub(inside, text)


def environment():
    sources = {}
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            sources[str(path.relative_to(ROOT / "templates"))] = translate(path.read_text())
    env = Environment(loader=DictLoader(sources), autoescape=False, keep_trailing_newline=False)
    # Compiled once, looked up by name: what a careful renderer does.
    return {name: env.get_template(name) for name in sources}


# Platform → its row of lvsdr's platform table, as lvsdr generates it (docs/platforms.json):
# the peer keeps no table of its own.
PLATFORMS = json.loads((ROOT / "docs/platforms.json").read_text())["platforms"]
# Dialect → (rules file, its template, the vips script's part, the context of that part).
RULES = {
    "arptables_jf": ("etc/sysconfig/arptables", "dialect/arptables_jf.save", "dialect/arptables-runtime.sh",
                     {"dialect": "arptables_jf", "input_chains": ["IN", "INPUT"], "output_chains": ["OUT", "OUTPUT"],
                      "restore": None}),
    "arptables": ("etc/sysconfig/arptables", "dialect/arptables.save", "dialect/arptables-runtime.sh",
                  {"dialect": "arptables", "input_chains": ["INPUT"], "output_chains": ["OUTPUT"],
                   "restore": "/etc/sysconfig/arptables"}),
    "nftables": ("etc/nftables/lvsdr.nft", "dialect/nftables.nft", "dialect/nftables-runtime.sh",
                 {"script": "/etc/nftables/lvsdr.nft", "real_ip6": "-"}),
}
LOAD = [["/usr/libexec/lvsdr/vips", "load"]]


class Variant(Obj):
    """A value of one of lvsdr's enums: its variant's name (`kind`), a struct variant's
    fields by name, a tuple variant's by position; equal to its name, printed as `text`."""

    def __init__(self, kind, *values, text=None, **fields):
        super().__init__(kind=kind, **fields)
        self._values = values
        self._text = kind if text is None else text

    def __getitem__(self, i):
        return self._values[i]

    def __eq__(self, other):
        return self.kind == other if isinstance(other, str) else super().__eq__(other)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __str__(self):
        return self._text


class Addr(str):
    """An IPv4 address as the director files print it."""

    @property
    def ipvsadm(self):
        return self


class VirtualService(Obj):
    """A virtual service as a director's files name it (lvsdr's emit/director.rs)."""

    def checker(self, rs, ping6):
        # Every member has the service's own check: one checker block serves them all.
        return self._checker


# The check every service gets by default (lvsdr's lower/checks.rs).
INTERVAL, TIMEOUT = 6, 3


def default_check(protocol, port):
    probe = Variant("Tcp", port=port) if protocol == "tcp" and port != 0 else Variant("Ping")
    return Obj(probe=probe, interval=INTERVAL, timeout=TIMEOUT, retries=None, retry_delay=None,
               on_failure=Variant("Remove"))


def vrrp_priority(position):
    return 150 if position == 0 else max(100 - (position - 1), 1)


def address_key(address):
    return tuple(int(octet) for octet in address.split("."))


def main(manifest_path, out):
    manifest = json.loads(Path(manifest_path).read_text())
    templates = environment()
    cluster = manifest["cluster"]
    defaults = manifest.get("defaults", {})
    markers = Obj(begin=f"# BEGIN lvsdr {cluster}", end=f"# END lvsdr {cluster}")
    services = manifest["services"]
    servers = {s["name"]: s for s in manifest["real_servers"]}
    vips_of = {name: {} for name in servers}
    for service in services:
        for member in service["real_servers"]:
            vips_of[member["server"]].setdefault(service["vip"], []).append(service["name"])
    index = {"cluster": cluster, "directors": [], "servers": [], "services": services}

    made = set()

    def write(host, relative, mode, text, entries):
        path = os.path.join(out, host, relative)
        directory = os.path.dirname(path)
        if directory not in made:
            os.makedirs(directory, exist_ok=True)
            made.add(directory)
        data = (text + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.write(fd, data)
        os.close(fd)
        os.chmod(path, mode)
        entries.append({"path": f"{host}/{relative}", "mode": f"{mode:04o}", "sha256": hashlib.sha256(data).hexdigest()})

    for name in sorted(servers):
        raw = servers[name]
        platform = raw.get("platform", defaults.get("platform", "el7"))
        row = PLATFORMS[platform]
        dialect, init, stack = row["default_dialect"], row["init"], row["default_network_stack"]
        interface = raw.get("interface", defaults.get("interface", "eth0"))
        real_ip = raw["address"].split("/")[0]
        vips = []
        for vip in sorted(vips_of[name], key=address_key):
            octets = vip.split(".")
            label = f"{interface}:{int(octets[2]) * 1000 + int(octets[3])}" if stack == "initscripts" else None
            vips.append(Obj(address=vip, label=label, services=vips_of[name][vip]))
        # Every dialect the defaults give holds the VIPs on the service interface.
        server = Obj(name=name, interface=interface, vip_device=interface, suppression=dialect, vips=vips)
        ctx = {"cluster": cluster, "server": server, "real_ip": real_ip, "markers": markers}
        rules_path, rules_template, runtime_template, runtime_ctx = RULES[dialect]
        runtime = templates[runtime_template].render(**ctx, **runtime_ctx)
        entries = []
        write(name, rules_path, 0o600, templates[rules_template].render(
            **ctx, vips4=[vip.address for vip in vips], vips6=[], real_ip6=None), entries)
        if dialect == "nftables":
            write(name, "etc/systemd/system/nftables.service.d/50-lvsdr.conf", 0o644,
                  templates["dialect/nftables.service.conf"].render(**ctx, script="/etc/nftables/lvsdr.nft"), entries)
        network = Obj(name="NetworkManager" if stack == "networkmanager" else (
            "InitscriptsBesideNetworkManager" if "networkmanager" in row["network_stacks"] else "Initscripts"))
        write(name, "usr/libexec/lvsdr/vips", 0o755,
              templates["vips.sh"].render(**ctx, runtime=runtime, network=network,
                                          rules_unit="lvsdr-arp.service" if init == "systemd" else None), entries)
        if init == "systemd":
            units = "etc/systemd/system"
            write(name, f"{units}/lvsdr-arp.service", 0o644, templates["systemd/lvsdr-arp.service"].render(**ctx), entries)
            write(name, f"{units}/lvsdr-vips.service", 0o644, templates["systemd/lvsdr-vips.service"].render(
                **ctx, loader="lvsdr-arp.service", device=f"sys-subsystem-net-devices-{interface}.device"), entries)
            write(name, f"{units}/lvsdr-guard.service", 0o644,
                  templates["systemd/lvsdr-guard.service"].render(**ctx, loader="lvsdr-arp.service"), entries)
        else:
            write(name, "fragments/etc/rc.d/rc.local", 0o755, templates["rc.local.sh"].render(
                **ctx, preload=[" ".join(s) for s in LOAD] if dialect != "arptables_jf" else []), entries)
        if stack == "networkmanager":
            write(name, "etc/NetworkManager/dispatcher.d/50-lvsdr", 0o755,
                  templates["nm-dispatcher.sh"].render(**ctx), entries)
        else:
            for vip in vips:
                write(name, f"etc/sysconfig/network-scripts/ifcfg-{vip.label}", 0o644,
                      templates["ifcfg-alias.ifcfg"].render(**ctx, vip=vip, label=vip.label), entries)
            write(name, "fragments/sbin/ifup-local", 0o755, templates["ifup-local.sh"].render(**ctx), entries)
        index["servers"].append({"name": name, "platform": platform, "address": raw["address"],
                                 "vips": [vars(v) for v in vips], "artifacts": entries})

    by_vip = {}
    for s in services:
        by_vip.setdefault(s["vip"], []).append(s["name"])
    vip_order = sorted(by_vip, key=address_key)

    def virtual_services(label_of):
        """The services with real servers, in manifest order, as a director holds them."""
        views = []
        for service in services:
            if not service["real_servers"]:
                continue
            members = sorted((Obj(name=m["server"], address=Addr(servers[m["server"]]["address"].split("/")[0]),
                                  weight=m.get("weight", 1)) for m in service["real_servers"]),
                             key=lambda m: address_key(m.address))
            protocol, port = service.get("protocol", "tcp"), service["port"]
            check = default_check(protocol, port)
            views.append(VirtualService(
                name=service["name"], vip=Addr(service["vip"]), label=label_of(service["vip"]), port=port,
                protocol=Variant(protocol.capitalize(), text=protocol), scheduler=service.get("scheduler", "wlc"),
                persistence=service.get("persistence", 0), real_servers=members,
                ipvsadm_service=f"{'-t' if protocol == 'tcp' else '-u'} {service['vip']}:{port}", mark=None, ranges=[],
                check_port=port, port_list="", check=check, sorry_server=None, quorum=None,
                nanny_send=None, nanny_expect=None,
                _checker=Obj(check=check, own_interval=None, ping_wait=max(TIMEOUT - 1, 1), misc_timeout=TIMEOUT + 2,
                             command_line="", ping="/bin/ping")))
        return views

    def ipvsadm_order(views):
        # ipvsadm-save's order: TCP before UDP, then address, then port.
        return sorted(views, key=lambda s: (s.protocol != "Tcp", address_key(s.vip), s.port))

    directors = manifest["directors"]
    # One failover family for all: the primary's.
    keepalived = PLATFORMS[directors[0].get("platform", defaults.get("platform", "el7"))]["failover"] == "keepalived"
    shared = virtual_services(lambda vip: None) if keepalived else None
    modules = sorted({"ip_vs"} | {f"ip_vs_{s.get('scheduler', 'wlc')}" for s in services})
    ports = [(protocol, "1-65535" if port == 0 else str(port)) for protocol, port in
             sorted({(s.get("protocol", "tcp"), s["port"]) for s in services})]
    vrrp = Obj(router_id=1, advert_int=1, unicast=False, preempt=Variant("AtOnce"), track_interfaces=[], notify=None)
    for position, raw in enumerate(directors):
        platform = raw.get("platform", defaults.get("platform", "el7"))
        init = PLATFORMS[platform]["init"]
        interface = raw.get("interface", defaults.get("interface", "eth0"))
        director = Obj(name=raw["name"], interface=interface, vrrp_priority=vrrp_priority(position),
                       address=Obj(addr=raw["address"].split("/")[0]), address6=None,
                       vips=[Obj(address=v, label=None, services=by_vip[v]) for v in vip_order])
        entries = []
        if keepalived:
            views = shared
            write(raw["name"], "etc/keepalived/keepalived.conf", 0o644, templates["keepalived.conf"].render(
                cluster=cluster, director=director, state="MASTER" if position == 0 else "BACKUP", vrrp=vrrp,
                peers4=[], peers6=[], vips4=director.vips, vips6=[], ping6=PLATFORMS[platform]["ping6"],
                services=views), entries)
        else:
            # lvs.cf names each VIP by its alias label on the director's interface.
            def label(vip):
                octets = vip.split(".")
                return f"{interface}:{int(octets[2]) * 1000 + int(octets[3])}"
            views = virtual_services(label)
            addr = lambda d: Obj(address=Obj(addr=d["address"].split("/")[0]))
            write(raw["name"], "etc/sysconfig/ha/lvs.cf", 0o644, templates["lvs.cf"].render(
                cluster=cluster, primary=addr(directors[0]), backup=addr(directors[1]) if len(directors) > 1 else None,
                services=views, serial_no=1), entries)
        write(raw["name"], "etc/sysconfig/ipvsadm", 0o600,
              templates["ipvsadm.rules"].render(services=ipvsadm_order(views)), entries)
        if init == "systemd":
            write(raw["name"], "etc/modules-load.d/lvsdr-ipvs.conf", 0o644, templates["modules-load.conf"].render(
                cluster=cluster, director=director, modules=modules), entries)
        if raw.get("firewall", "firewalld" if init == "systemd" else "none") == "firewalld":
            write(raw["name"], f"etc/firewalld/services/lvsdr-{cluster}.xml", 0o644,
                  templates["firewalld-service.xml"].render(cluster=cluster, director=director, ports=ports), entries)
        index["directors"].append({"name": raw["name"], "platform": platform, "artifacts": entries})

    # Compact: json's C encoder (indenting takes its pure-Python one, several times slower).
    with open(os.path.join(out, "index.json"), "w") as f:
        f.write(json.dumps(index, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
