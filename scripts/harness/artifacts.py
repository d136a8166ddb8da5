"""Every artifact against the real tool that reads it (sh, dash, nft, arptables-restore,
systemd-analyze), its mode and checksum, and index.json against its schema.
"""

import hashlib
import json
import re
from pathlib import Path

from .directors import DIRECTOR_CHECKS
from .platform import artifact
from .runner import CheckError, check, run


def static_checks(tree, index, scratch):
    for server in index["directors"] + index["servers"]:
        for art in server["artifacts"]:
            path = tree / art["path"]
            label = f"{art['path']}"

            def integrity(path=path, art=art):
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != art["sha256"]:
                    raise CheckError("sha256 differs from index.json")
                mode = path.stat().st_mode & 0o7777
                if f"{mode:04o}" != art["mode"]:
                    raise CheckError(f"mode {mode:04o}, index.json says {art['mode']}")
                if not data.endswith(b"\n") or b"\r" in data:
                    raise CheckError("not LF-terminated text")
            check(f"{label}: mode and sha256 match index.json", integrity)

            kind = art["kind"]
            if art["install"] == "block":
                def markers(path=path):
                    lines = path.read_text().splitlines()
                    begin, end = f"# BEGIN lvsdr {index['cluster']}", f"# END lvsdr {index['cluster']}"
                    if lines[0] != begin or lines[-1] != end:
                        raise CheckError(f"block not wrapped in '{begin}' / '{end}'")
                check(f"{label}: BEGIN/END markers", markers)
            if kind in ("rc-local", "ifcfg-alias", "vips", "ifup-local", "nm-dispatcher"):
                for shell in ("sh", "dash"):
                    check(f"{label}: {shell} -n", lambda shell=shell, path=path: run([shell, "-n", str(path)]) and None)
            if kind == "ifcfg-alias":
                def ifcfg(path=path, server=server):
                    out = run(["sh", "-c", '. "$1"; echo "$DEVICE $IPADDR $PREFIX $NETMASK $ARPCHECK $ARPUPDATE $ONPARENT"',
                               "sh", str(path)]).stdout.split()
                    device, ip = out[0], out[1]
                    vip = next((v for v in server["vips"] if v.get("label") == device), None)
                    if vip is None or vip["address"] != ip:
                        raise CheckError(f"DEVICE={device} IPADDR={ip} do not match index.json")
                    if out[2:] != ["32", "255.255.255.255", "no", "no", "no"]:
                        raise CheckError(f"PREFIX/NETMASK/ARPCHECK/ARPUPDATE/ONPARENT are {out[2:]}")
                check(f"{label}: sourced by sh, /32 with ARPCHECK=no ARPUPDATE=no ONPARENT=no", ifcfg)
            if kind == "nftables":
                check(f"{label}: nft -c -f", lambda path=path: scratch("nft", "-c", "-f", str(path)) and None)
            if kind in ("systemd-unit", "marks-unit") and art["path"].endswith(".service"):
                check(f"{label}: every command is an absolute path (el7's systemd 219 needs it)",
                      lambda path=path: absolute_exec(path.read_text()))
            if kind in DIRECTOR_CHECKS:
                for what, fn in DIRECTOR_CHECKS[kind]:
                    check(f"{label}: {what}", lambda fn=fn, path=path, server=server: fn(tree, server, path.read_text()))
    for server in index["servers"]:
        if artifact(server, "systemd-unit"):
            check(f"{server['name']}: systemd-analyze verify of its units, no warnings",
                  lambda server=server: verify_units(tree, server))
            check(f"{server['name']}: the units' order is the boot steps' order (rules before network-pre, VIPs after)",
                  lambda server=server: unit_order(tree, server))
        if server["network_stack"] == "networkmanager":
            check(f"{server['name']}: no ifcfg alias file for NetworkManager to read and announce",
                  lambda server=server: no_alias_files(tree, server))


def absolute_exec(text):
    for line in text.splitlines():
        if re.match(r"Exec(Start|Stop)=", line):
            command = line.split("=", 1)[1].lstrip("-")
            if not command.startswith("/"):
                raise CheckError(f"{line!r} does not start with an absolute path")


def verify_units(tree, server):
    """systemd-analyze verify, with the host's vips script where the units expect it (a
    private mount namespace); any output is a failure, as it exits 0 on warnings."""
    units = [tree / a["path"] for a in artifact(server, "systemd-unit")]
    vips = tree / artifact(server, "vips")[0]["path"]
    script = ('mount -t tmpfs tmpfs /usr/libexec && mkdir -p /usr/libexec/lvsdr && cp "$1" /usr/libexec/lvsdr/vips && '
              'shift && cd "$(dirname "$1")" && systemd-analyze verify --man=no "$@"')
    res = run(["unshare", "-m", "sh", "-c", script, "sh", str(vips), *map(str, units)], check=False)
    out = (res.stdout + res.stderr).strip()
    if res.returncode != 0 or out:
        raise CheckError(out or f"exit {res.returncode}")
    return f"{len(units)} units"


def unit_fields(text):
    fields = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            fields.setdefault(key, []).extend(value.split())
    return fields


def unit_order(tree, server):
    """Orders lvsdr's units by their After=/Before= as systemd would and compares the
    commands they run with index.json's boot steps; checks the bindings that take the VIPs
    down first."""
    units = {Path(a["path"]).name: unit_fields((tree / a["path"]).read_text())
             for a in artifact(server, "systemd-unit") if a["path"].endswith(".service")}
    after = {u: {d for d in f.get("After", []) if d in units} for u, f in units.items()}
    for u, f in units.items():
        for d in f.get("Before", []):
            if d in units:
                after[d].add(u)
    order, pending = [], dict(after)
    while pending:
        ready = sorted(u for u, deps in pending.items() if not deps - set(order))
        if not ready:
            raise CheckError(f"the units' ordering has a cycle: {pending}")
        order.extend(ready)
        for u in ready:
            del pending[u]
    # The guard's watch runs for as long as the host does; it is no boot step.
    booted = [u for u in order if units[u].get("WantedBy") == ["multi-user.target"] and u != "lvsdr-guard.service"]
    execs = [" ".join(units[u]["ExecStart"]) for u in booted]
    steps = [" ".join(st["argv"]) for st in server["steps"]["boot_before_network"] + server["steps"]["boot_after_network"]]
    if execs != steps:
        raise CheckError(f"the units run {execs}, index.json's boot steps say {steps}")
    vips = units.get("lvsdr-vips.service", {})
    loader = next(iter(u for u in booted if u != "lvsdr-vips.service"), None)
    if loader and (loader not in vips.get("BindsTo", []) or loader not in vips.get("PartOf", [])):
        raise CheckError(f"lvsdr-vips.service is not bound to {loader}")
    if loader == "lvsdr-arp.service" and "network-pre.target" not in units[loader].get("Before", []):
        raise CheckError("lvsdr-arp.service is not ordered before network-pre.target")
    if loader == "lvsdr-arp.service" and "nftables.service" not in units[loader].get("After", []):
        raise CheckError("lvsdr-arp.service is not ordered after nftables.service, whose start loads a saved ruleset")
    if "network-online.target" not in vips.get("After", []):
        raise CheckError("lvsdr-vips.service may run before NetworkManager has activated the interface")
    return " -> ".join(booted)


def no_alias_files(tree, server):
    found = [a["path"] for a in server["artifacts"] if a["kind"] == "ifcfg-alias"]
    if found:
        raise CheckError(f"NetworkManager's ifcfg-rh reader would add and announce {found}")


def validate_index(binary, index):
    import jsonschema  # Debian's python3-jsonschema
    schema = json.loads(run([binary, "schema", "index"]).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(index), key=lambda e: list(e.path))
    if errors:
        raise CheckError(f"{len(errors)} error(s), first at /{'/'.join(map(str, errors[0].path))}: {errors[0].message}")
    return f"{sum(1 for h in index['servers'] + index['directors'] for _ in h['artifacts'])} artifacts"
