#!/usr/bin/env python3
"""The peer scripts/bench measures lvsdr against: what a site would run instead of lvsdr,
a Jinja2 renderer of the same artifact set from the same manifest.

    scripts/jinja2-peer.py MANIFEST OUT

It renders lvsdr's own templates (templates/, translated to Jinja2 syntax at start) for
every host, with the same file set, paths and modes as lvsdr's tree (scripts/bench checks
that), and writes an index.json listing each file with its SHA-256, as lvsdr does. It
validates nothing, plans only what the platforms' defaults give, and does not fsync: a
fair and favourable peer. Its bytes differ from lvsdr's in the values it does not
compute as lvsdr does (the load commands, lvs.cf's serial number).
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

# askama → Jinja2: the few constructs lvsdr's templates use that Jinja2 spells otherwise.
TRANSLATIONS = [
    (re.compile(r"\{%(-?) *if let Some\((\w+)\) = ([\w.]+) *(-?)%\}"), r"{%\1 if \3 %}{% set \2 = \3 %}"),
    (re.compile(r"\{%(-?) *match (\w+) *(-?)%\}"), r"{%\1 if \2 \3%}"),
    (re.compile(r"\{%(-?) *when None *(-?)%\}"), r"{%\1 if false \2%}"),
    (re.compile(r"\{%(-?) *when Some\(\w+\) *(-?)%\}"), r"{%\1 endif \2%}"),
    (re.compile(r"\{%(-?) *endmatch *(-?)%\}"), r"{%\1 endif \2%}"),
    (re.compile(r"\{%(-?) *else if "), r"{%\1 elif "),
    (re.compile(r"!([\w.]+)\.is_empty\(\)"), r"\1"),
    (re.compile(r"!loop\."), "not loop."),
    (re.compile(r"Protocol::Tcp"), '"tcp"'),
    (re.compile(r"&&"), " and "),
    (re.compile(r"\.unwrap_or_default\(\)"), ' or ""'),
    (re.compile(r"\[(\w+)\.len\(\) - 1\]"), "[-1]"),
    (re.compile(r"\.(\w+)\(\)"), r".\1"),
]


def translate(text):
    # Only inside tags: the shell scripts' own `&&` and `!` stay as they are.
    def inside(match):
        tag = match.group(0)
        for pattern, replacement in TRANSLATIONS:
            tag = pattern.sub(replacement, tag)
        return tag

    return re.sub(r"\{[{%].*?[}%]\}", inside, text, flags=re.S)


def environment():
    sources = {}
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            sources[str(path.relative_to(ROOT / "templates"))] = translate(path.read_text())
    env = Environment(loader=DictLoader(sources), autoescape=False, keep_trailing_newline=False)
    # Compiled once, looked up by name: what a careful renderer does.
    return {name: env.get_template(name) for name in sources}


# Platform → (dialect, init, network stack), the defaults of lvsdr's platform table.
PLATFORMS = {
    "el4": ("arptables_jf", "sysv", "initscripts"),
    "el5": ("arptables_jf", "sysv", "initscripts"),
    "el6": ("arptables_jf", "sysv", "initscripts"),
    "el7": ("arptables", "systemd", "networkmanager"),
    "el8": ("nftables", "systemd", "networkmanager"),
    "el9": ("nftables", "systemd", "networkmanager"),
}
# Dialect → (rules file, its template, the vips script's part, the context of that part).
RULES = {
    "arptables_jf": ("etc/sysconfig/arptables", "dialect/arptables_jf.save", "dialect/arptables-runtime.sh",
                     {"dialect": "arptables_jf", "input_chains": ["IN", "INPUT"], "output_chains": ["OUT", "OUTPUT"],
                      "restore": None}),
    "arptables": ("etc/sysconfig/arptables", "dialect/arptables.save", "dialect/arptables-runtime.sh",
                  {"dialect": "arptables", "input_chains": ["INPUT"], "output_chains": ["OUTPUT"],
                   "restore": "/etc/sysconfig/arptables"}),
    "nftables": ("etc/nftables/lvsdr.nft", "dialect/nftables.nft", "dialect/nftables-runtime.sh",
                 {"script": "/etc/nftables/lvsdr.nft"}),
}
LOAD = [["/usr/libexec/lvsdr/vips", "load"]]


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
        dialect, init, stack = PLATFORMS[platform]
        interface = raw.get("interface", defaults.get("interface", "eth0"))
        real_ip = raw["address"].split("/")[0]
        vips = []
        for vip in sorted(vips_of[name], key=address_key):
            octets = vip.split(".")
            label = f"{interface}:{int(octets[2]) * 1000 + int(octets[3])}" if stack == "initscripts" else None
            vips.append(Obj(address=vip, label=label, services=vips_of[name][vip]))
        server = Obj(name=name, interface=interface, suppression=dialect, vips=vips)
        ctx = {"cluster": cluster, "server": server, "real_ip": real_ip, "markers": markers}
        rules_path, rules_template, runtime_template, runtime_ctx = RULES[dialect]
        runtime = templates[runtime_template].render(**ctx, **runtime_ctx)
        entries = []
        write(name, rules_path, 0o600, templates[rules_template].render(**ctx), entries)
        if dialect == "nftables":
            write(name, "etc/systemd/system/nftables.service.d/50-lvsdr.conf", 0o644,
                  templates["dialect/nftables.service.conf"].render(**ctx, script="/etc/nftables/lvsdr.nft"), entries)
        network = Obj(name="NetworkManager" if stack == "networkmanager" else (
            "InitscriptsBesideNetworkManager" if platform in ("el7", "el8") else "Initscripts"))
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
    all_vips = [Obj(address=v, label=None, services=by_vip[v]) for v in sorted(by_vip, key=address_key)]
    rendered = []
    for service in services:
        members = [Obj(name=m["server"], address=servers[m["server"]]["address"].split("/")[0],
                       weight=m.get("weight", 1)) for m in service["real_servers"]]
        protocol = service.get("protocol", "tcp")
        rendered.append(Obj(name=service["name"], vip=service["vip"], port=service["port"], protocol=protocol,
                            scheduler=service.get("scheduler", "wlc"), persistence=service.get("persistence", 0),
                            real_servers=members, flag="-t" if protocol == "tcp" else "-u", label=None,
                            http_probe=service["port"] == 80))
    directors = manifest["directors"]
    for position, raw in enumerate(directors):
        platform = raw.get("platform", defaults.get("platform", "el7"))
        director = Obj(name=raw["name"], interface=raw.get("interface", defaults.get("interface", "eth0")),
                       vrrp_priority=150 - 50 * position, vips=all_vips)
        entries = []
        if PLATFORMS[platform][1] == "systemd":
            write(raw["name"], "etc/keepalived/keepalived.conf", 0o644, templates["keepalived.conf"].render(
                cluster=cluster, director=director, services=rendered, router_id=1,
                state="MASTER" if position == 0 else "BACKUP"), entries)
        else:
            addr = lambda d: Obj(address=Obj(addr=d["address"].split("/")[0]))
            write(raw["name"], "etc/sysconfig/ha/lvs.cf", 0o644, templates["lvs.cf"].render(
                cluster=cluster, primary=addr(directors[0]), backup=addr(directors[1]) if len(directors) > 1 else None,
                services=rendered, serial_no=1), entries)
        write(raw["name"], "etc/sysconfig/ipvsadm", 0o600,
              templates["ipvsadm.rules"].render(services=rendered), entries)
        index["directors"].append({"name": raw["name"], "platform": platform, "artifacts": entries})

    # Compact: json's C encoder (indenting takes its pure-Python one, several times slower).
    with open(os.path.join(out, "index.json"), "w") as f:
        f.write(json.dumps(index, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
