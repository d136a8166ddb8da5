"""Every artifact's mode and checksum, and its content by its kind's row of KIND_CHECKS
(the real tool that reads it, or its rules against index.json); systemd-analyze on a
host's units; index.json against its schema.
"""

import hashlib
import json
import re
from pathlib import Path
from typing import NamedTuple

from .directors import (firewalld_direct, firewalld_service, keepalived_table, keepalived_test, keepalived_vips,
                        lvs_cf_globals, lvs_cf_table, marks_init, marks_iptables, marks_nftables, marks_unit,
                        modules_load, table_from_save)
from .platform import artifact
from .runner import CheckError, check, run


class ArtifactFile(NamedTuple):
    """One artifact as a check of its kind sees it: the tree, its host's and its own
    index.json entries, its file in the tree, and the namespace for tools that ask the kernel."""
    tree: Path
    host: dict
    art: dict
    path: Path
    scratch: object

    def text(self):
        return self.path.read_text()


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

            if art["install"] == "block":
                def markers(path=path):
                    lines = path.read_text().splitlines()
                    begin, end = f"# BEGIN lvsdr {index['cluster']}", f"# END lvsdr {index['cluster']}"
                    if lines[0] != begin or lines[-1] != end:
                        raise CheckError(f"block not wrapped in '{begin}' / '{end}'")
                check(f"{label}: BEGIN/END markers", markers)
            kind = art["kind"]
            if kind not in KIND_CHECKS:
                check(f"{label}: a check of kind {kind}", lambda kind=kind: unchecked(kind))
                continue
            file = ArtifactFile(tree, server, art, path, scratch)
            for what, fn in KIND_CHECKS[kind]:
                check(f"{label}: {what}", lambda fn=fn, file=file: fn(file))
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


def unchecked(kind):
    raise CheckError(f"host-check has no check of kind {kind}: add its row to KIND_CHECKS (scripts/harness/artifacts.py)")


def syntax(shell):
    """`shell -n` on the file: what the host's shell will parse."""
    return lambda f: run([shell, "-n", str(f.path)]) and None


def ifcfg(f):
    out = run(["sh", "-c", '. "$1"; echo "$DEVICE $IPADDR $PREFIX $NETMASK $ARPCHECK $ARPUPDATE $ONPARENT"',
               "sh", str(f.path)]).stdout.split()
    device, ip = out[0], out[1]
    vip = next((v for v in f.host["vips"] if v.get("label") == device), None)
    if vip is None or vip["address"] != ip:
        raise CheckError(f"DEVICE={device} IPADDR={ip} do not match index.json")
    if out[2:] != ["32", "255.255.255.255", "no", "no", "no"]:
        raise CheckError(f"PREFIX/NETMASK/ARPCHECK/ARPUPDATE/ONPARENT are {out[2:]}")


def nft_check(f):
    return f.scratch("nft", "-c", "-f", str(f.path)) and None


def unit_commands(f):
    return absolute_exec(f.text())


def arptables_rules(f):
    """The save file's rules are exactly lvsdr's two per VIP of index.json, in the dialect's
    chains: ARP asking for the VIP dropped on input, ARP sent from it given the real IP on
    output (the runtime checks load it with the real tool)."""
    inp, out = ("IN", "OUT") if f.art["kind"] == "arptables_jf" else ("INPUT", "OUTPUT")
    real = f.host["address"].split("/")[0]
    # arptables_jf's save form counts each rule ([0:0]); el7's restore takes none.
    rules = sorted(re.sub(r"^\[\d+:\d+\] ", "", line) for line in f.text().splitlines()
                   if re.match(r"(\[\d+:\d+\] )?-A ", line))
    vips = [v["address"] for v in f.host["vips"]]
    want = sorted([f"-A {inp} -d {v} -j DROP" for v in vips] +
                  [f"-A {out} -s {v} -j mangle --mangle-ip-s {real}" for v in vips])
    if rules != want:
        raise CheckError(f"rules {rules}, index.json's VIPs want {want}")
    return f"{len(vips)} VIP(s) in {inp}/{out}"


def nftables_dropin(f):
    """nftables.service's drop-in: every command an absolute path; its reload is RHEL's own
    with the host's lvsdr table in the same transaction, and its start, reload and stop
    each end in `vips repair`."""
    lines = [line.split("=", 1) for line in f.text().splitlines() if "=" in line and not line.startswith("#")]
    said = {key: [value for k, value in lines if k == key] for key in ("ExecStartPost", "ExecReload", "ExecStopPost")}
    rules = next(a["install_path"] for a in f.host["artifacts"] if a["kind"] == "nftables")
    repair = "-/usr/libexec/lvsdr/vips repair"
    reload = f"/usr/sbin/nft 'flush ruleset; include \"/etc/sysconfig/nftables.conf\"; include \"{rules}\";'"
    want = {"ExecStartPost": [repair], "ExecReload": ["", reload, repair], "ExecStopPost": [repair]}
    if said != want:
        raise CheckError(f"{said}, want {want}")
    return f"reloads {rules} with nftables.conf"


def on_text(fn, *args):
    """A check in directors.py's form, fn(tree, director, text)."""
    return lambda f: fn(f.tree, f.host, f.text(), *args)


SHELL = [("sh -n", syntax("sh")), ("dash -n", syntax("dash"))]

# Every artifact kind lvsdr writes and the checks of its files' content. One row per kind:
# compiler/tests/architecture.rs fails when a kind of contract::ArtifactKind has no row
# (or a row names no kind), and static_checks fails a file of a kind without one.
# The units and ifcfg files also get host-wide checks above (systemd-analyze, their
# order, no alias file under NetworkManager); servers.py boots and changes every host.
KIND_CHECKS = {
    "arptables": [("the rules are index.json's VIPs, dropped on INPUT and given the real IP on OUTPUT",
                   arptables_rules)],
    "arptables_jf": [("the rules are index.json's VIPs, dropped on IN and given the real IP on OUT", arptables_rules)],
    "nftables": [("nft -c -f", nft_check)],
    "systemd-dropin": [("nftables.service reloads lvsdr's table with its own and repairs the VIPs after each change",
                        nftables_dropin)],
    "vips": SHELL,
    "systemd-unit": [("every command is an absolute path (el7's systemd 219 needs it)", unit_commands)],
    "nm-dispatcher": SHELL,
    "ifcfg-alias": SHELL + [("sourced by sh, /32 with ARPCHECK=no ARPUPDATE=no ONPARENT=no", ifcfg)],
    "ifup-local": SHELL,
    "rc-local": SHELL,
    "lvs.cf": [("keys of lvs.cf(5), network = direct, primary", on_text(lvs_cf_globals)),
               ("virtual blocks equal the ipvsadm file", on_text(lvs_cf_table))],
    "keepalived": [("keepalived -t -f, no warnings", on_text(keepalived_test)),
                   ("virtual_servers equal the ipvsadm file", on_text(keepalived_table)),
                   ("VRRP VIPs and labels equal index.json", on_text(keepalived_vips))],
    "ipvsadm": [("ipvsadm-save -n grammar", lambda f: f"{len(table_from_save(f.text()))} services")],
    "modules-load": [("IPVS and the schedulers in use", on_text(modules_load))],
    "firewalld-service": [("VRRP and the services' ports", on_text(firewalld_service))],
    "marks-nftables": [("nft -c, replaced whole, the marks of index.json", on_text(marks_nftables))],
    "marks-iptables": [("iptables-restore --test, lvsdr's chain, the marks of index.json", on_text(marks_iptables))],
    "marks-ip6tables": [("ip6tables-restore --test, lvsdr's chain, the marks of index.json",
                         on_text(marks_iptables, "ip6tables-restore", 6))],
    "firewalld-direct": [("mangle PREROUTING, the marks of index.json", on_text(firewalld_direct))],
    "marks-unit": [("every command is an absolute path (el7's systemd 219 needs it)", unit_commands),
                   ("loads the rules before keepalived", on_text(marks_unit))],
    "marks-init": [("sh syntax, chkconfig order, restores the rules", on_text(marks_init))],
}
