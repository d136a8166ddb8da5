"""A director as a test host for the configuration-management recipes: its files in a root
directory, laid over /etc and /var/lib in a private mount namespace; a network namespace
with its interfaces (keepalived -t wants them to exist); and stand-ins, laid over
/usr/bin and /usr/sbin, for what does not run here. systemd and firewalld do not run, and
this kernel has no IPVS: their stand-ins record each command and answer as the real ones
would; keepalived is recorded, then the real one checks the installed file.
"""

import json
import shutil
import stat
from pathlib import Path

from .netns import Netns
from .runner import RESULTS, ROOT, CheckError, check, report, run

# A stand-in records each request as "PATH ARGS", and fails it when that line is the one
# in the FAIL file.
PRELUDE = """#!/bin/sh
record() {
	echo "$0 $*" >>"{log}"
	if [ "$0 $*" = "$(cat "{fail}" 2>/dev/null)" ]; then
		echo "$0: failing, as the check asks" >&2
		exit 1
	fi
}
"""

STANDINS = {
    # The verbs a director's steps use; and the version, which Salt's grains ask for.
    "usr/bin/systemctl": """case $1 in
--version)
	echo "systemd 252 (stand-in)"
	exit 0
	;;
enable | restart | reload)
	record "$@"
	exit 0
	;;
esac
echo "systemctl stand-in: unexpected arguments: $*" >&2
exit 2
""",
    # firewalld refuses to enable a service it has no file for: enable must follow the files.
    "usr/bin/firewall-cmd": """record "$@"
case "$*" in
--reload) exit 0 ;;
"--permanent --add-service="*)
	service=${2#--add-service=}
	[ -f "/etc/firewalld/services/$service.xml" ] && exit 0
	echo "Error: INVALID_SERVICE: $service" >&2
	exit 101
	;;
esac
echo "firewall-cmd stand-in: unexpected arguments: $*" >&2
exit 2
""",
    "usr/sbin/keepalived": """record "$@"
exec "{real}" "$@"
""",
}

# The overlays, then the command in the network namespace. Read-only ("ro") for a step
# run by a recipe that installs into the root itself (Ansible's lvsdr_root); writable
# ("rw", the root is the upper layer) for a recipe that runs on the host (Salt, Puppet).
MOUNTS = """root=$1 standins=$2 mode=$3 scratch=$4
shift 4
for dir in etc var/lib; do
	mkdir -p "$root/$dir"
	if [ "$mode" = rw ]; then
		mkdir -p "$scratch/$dir"
		options="lowerdir=/$dir,upperdir=$root/$dir,workdir=$scratch/$dir"
	else
		options="lowerdir=$root/$dir:/$dir"
	fi
	mount -t overlay overlay -o "$options" "/$dir" || exit 125
done
for dir in usr/bin usr/sbin; do
	mount -t overlay overlay -o "lowerdir=$standins/$dir:/$dir" "/$dir" || exit 125
done
exec ip netns exec "$@"
"""


class DirectorHost:
    """A director of index.json as a test host; `root` holds its files."""

    def __init__(self, director, root, scratch):
        self.name = director["name"]
        self.root = Path(root)
        self.scratch = Path(scratch)
        self.standins = self.scratch / "standins"
        self.log = self.scratch / "steps"
        self.fail = self.scratch / "fail"
        self.root.mkdir(parents=True, exist_ok=True)
        self.standins.mkdir(parents=True)
        self.log.write_text("")
        real = self.standins / "keepalived.real"
        # The overlay hides /usr/sbin's keepalived from its stand-in: a copy runs instead.
        shutil.copy2(shutil.which("keepalived", path="/usr/sbin:/sbin"), real)
        for path, body in STANDINS.items():
            standin = self.standins / path
            standin.parent.mkdir(parents=True, exist_ok=True)
            text = PRELUDE + body
            for key, value in (("{log}", self.log), ("{fail}", self.fail), ("{real}", real)):
                text = text.replace(key, str(value))
            standin.write_text(text)
            standin.chmod(0o755)
        self.ns = Netns("dr")
        interfaces = [director["interface"], *(director.get("vrrp") or {}).get("track_interfaces", [])]
        for n, name in enumerate(dict.fromkeys(interfaces)):
            run(["ip", "link", "add", name, "netns", self.ns.name, "type", "veth", "peer", "name", f"dr{n}",
                 "netns", self.ns.name])

    def prefix(self, mode="ro"):
        """The argument vector that runs a command on this host."""
        return ["unshare", "-m", "/bin/sh", "-c", MOUNTS, "sh", str(self.root), str(self.standins), mode,
                str(self.scratch / f"overlay-{mode}"), self.ns.name]

    def steps(self):
        """The commands the stand-ins recorded since the last call, one string each."""
        lines = self.log.read_text().splitlines()
        self.log.write_text("")
        return lines

    def fail_on(self, step):
        """Makes the stand-ins fail the step (an argv), or nothing with None."""
        if step is None:
            self.fail.unlink(missing_ok=True)
        else:
            self.fail.write_text(" ".join(step) + "\n")

    def delete(self):
        self.ns.delete()


# What a director's recipe is run through, tree by tree, on each director of the pair:
# (fixture, side, whether the enable steps run, the steps after them or None for no step
# at all, whether `systemctl reload` fails, what the run shows). The enable steps run on a
# first install and when a file they act on changed (the modules-load.d file, the
# firewalld service: not keepalived.conf or the IPVS table), as `lvsdr diff` says:
# firewalld's reload drops new connections to the director while it runs.
DIRECTOR_RUNS = [
    ("health-check", "old", True, "restart", False,
     "the first run installs the files, enables, restarts (starts), records"),
    ("health-check", "old", False, None, False, "a second run changes nothing and runs no step"),
    ("health-check", "new", False, "reload", False,
     "health-check/new (a check, a weight: keepalived.conf and the IPVS table): reload, no enable"),
    ("vrrp-unicast", "old", False, "reload", True,
     "back to the old tree with the reload failing: the run fails, the record stays"),
    ("vrrp-unicast", "old", False, "reload", False, "the next run takes the failed change up again: reload"),
    ("vrrp-unicast", "new", False, "restart", False,
     "vrrp-unicast/new (unicast peers, advert_int: keepalived.conf alone): restart, no enable"),
    ("vrrp-unicast", "new", False, None, False, "a second run changes nothing and runs no step"),
    ("service-port", "new", True, "reload", True,
     "service-port/new (port 80 -> 8080: the firewalld service too) with the reload failing: "
     "enable, then the failed reload; the record stays"),
    ("service-port", "new", True, "reload", False,
     "the next run takes it up again, its firewalld service included: enable, then reload"),
    ("service-port", "new", False, None, False, "a second run changes nothing and runs no step"),
]

RECORD = "/var/lib/lvsdr/director-state.json"


def record_of(director):
    """What a recipe records once a director applied its tree."""
    return {"interface": director["interface"], "vrrp": director.get("vrrp"),
            "files": {a["install_path"]: a["sha256"] for a in director["artifacts"]}}


def diff_steps(binary, old, new):
    """What `lvsdr diff` says each director runs from manifest `old` to `new`:
    {name: [command, ...]}, with no entry for a director it leaves alone."""
    res = run([binary, "diff", "--format", "json", str(old), str(new)])
    return {a["host"]: [" ".join(s["argv"]) for s in a["steps"]]
            for a in json.loads(res.stdout)["actions"] if a["role"] == "director"}


def director_runs(label, binary, work, hosts_made, apply):
    """DIRECTOR_RUNS, each a check: apply(tree, hosts, unchanged, fails) runs the recipe on
    every director host ({name: DirectorHost}) and says what it changed, having checked
    that it changed nothing when `unchanged` and that it failed when `fails`. Then every
    director's files are the tree's, with their modes; its stand-ins recorded exactly
    index.json's enable steps (when the run says so) and then its `action` steps (up to
    the failing reload), or nothing; those are the steps `lvsdr diff` gives the director
    from the tree it last applied; and its record is this tree's, or the previous one's
    after the failed run."""
    work.mkdir(parents=True)
    indexes, trees = {}, {}
    for fixture, side, *_ in DIRECTOR_RUNS:
        tree = work / f"{fixture}-{side}"
        if tree not in trees.values():
            run([binary, "compile", str(ROOT / "fixtures" / "diff" / fixture / f"{side}.json"), "-o", str(tree)])
            indexes[fixture, side] = json.loads((tree / "index.json").read_text())
            trees[fixture, side] = tree
    hosts = {}
    for director in indexes["health-check", "old"]["directors"]:
        host = DirectorHost(director, work / "roots" / director["name"], work / "hosts" / director["name"])
        hosts_made.append(host)
        hosts[director["name"]] = host
    failed_before = RESULTS["failed"]
    applied, applied_from = None, None
    for fixture, side, enable, action, fails, what in DIRECTOR_RUNS:
        index = indexes[fixture, side]
        manifest = ROOT / "fixtures" / "diff" / fixture / f"{side}.json"

        def go(tree=trees[fixture, side], index=index, enable=enable, action=action, fails=fails, applied=applied,
               applied_from=applied_from, manifest=manifest):
            said_by_diff = diff_steps(binary, applied_from, manifest) if applied_from else None
            for d in index["directors"]:
                hosts[d["name"]].fail_on(d["steps"]["reload"][-1]["argv"] if fails else None)
            detail = apply(tree, hosts, action is None, fails)
            said = []
            for d in index["directors"]:
                host = hosts[d["name"]]
                for a in d["artifacts"]:
                    target = host.root / a["install_path"].lstrip("/")
                    if not target.is_file() or target.read_bytes() != (tree / a["path"]).read_bytes():
                        raise CheckError(f"{d['name']}: {a['install_path']} is not the tree's {a['path']}")
                    if stat.S_IMODE(target.stat().st_mode) != int(a["mode"], 8):
                        raise CheckError(f"{d['name']}: {a['install_path']} has mode "
                                         f"{stat.S_IMODE(target.stat().st_mode):04o}, index.json says {a['mode']}")
                steps = (d["steps"]["enable"] if enable else []) + (d["steps"][action] if action else [])
                want = [" ".join(s["argv"]) for s in steps]
                if said_by_diff is not None and said_by_diff.get(d["name"], []) != want:
                    raise CheckError(f"{d['name']}: lvsdr diff says {said_by_diff.get(d['name'], [])}, "
                                     f"this run expects {want}")
                if fails:
                    want = want[:want.index(" ".join(d["steps"]["reload"][-1]["argv"])) + 1]
                have = host.steps()
                if have != want:
                    raise CheckError(f"{d['name']} ran {have}, want {want}")
                record = json.loads((host.root / RECORD.lstrip("/")).read_text())
                if record != (wanted := record_of(applied[d["name"]] if fails else d)):
                    raise CheckError(f"{d['name']} recorded {record}, want {wanted}")
                enabling = {" ".join(s["argv"]) for s in d["steps"]["enable"]}
                enabled = sum(1 for line in have if line in enabling)
                said.append(f"{d['name']} ran {len(have)} commands ({enabled} of them enable steps)")
            return f"{detail}; {', '.join(said)}" + ("; as lvsdr diff says" if said_by_diff is not None else "")

        if RESULTS["failed"] > failed_before:
            report(False, f"{label}: {what}", "not run: an earlier director check failed")
        else:
            check(f"{label}: {what}", go)
        if not fails:
            applied, applied_from = {d["name"]: d for d in index["directors"]}, manifest
