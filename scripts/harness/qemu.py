"""QEMU for the harness: the Debian kernel (downloaded once with apt), its module closure,
and a real-userland director VM (systemd as PID 1, keepalived, IPVS) on a segment's bridge,
driven through a control channel on its second serial port.

scripts/vm-check boots its busybox VM with the same kernel; scripts/realhost/cluster boots
the directors here beside the real servers' containers (scripts/realhost/lib.sh).
"""

import base64
import gzip
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = ROOT / "target" / "vm"
REALHOST = ROOT / "target" / "realhost"

# What the director's initramfs loads to find its root disk and switch to it.
ROOT_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic"]


class QemuError(Exception):
    pass


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise QemuError(f"{' '.join(map(str, cmd))} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res.stdout


def kernel():
    """The Debian kernel image and its modules, downloaded once with apt: (version, root)."""
    meta = _run(["apt-cache", "depends", "linux-image-amd64"])
    image = next((l.split(":", 1)[1].strip() for l in meta.splitlines() if "Depends:" in l and "linux-image-" in l), None)
    if not image:
        raise QemuError("apt-cache finds no linux-image-amd64 (run apt-get update)")
    version = image.removeprefix("linux-image-")
    root = CACHE / f"kernel-{version}"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        print(f"qemu: downloading {image} with apt", flush=True)
        _run(["apt-get", "download", image], cwd=root)
        deb = next(root.glob(f"{image}_*.deb"))
        _run(["dpkg-deb", "-x", str(deb), str(root / "x")])
        (root / "package").write_text(deb.name)
        deb.unlink()
        (root / "done").write_text("")
    return version, root


def module_closure(modroot, version, modules):
    """The module files needed for MODULES with their dependencies, dependencies first:
    (the modules directory, [(name, path)])."""
    base = modroot / "lib" / "modules" / version
    by_name = {p.name.split(".ko")[0].replace("-", "_"): p for p in base.rglob("*.ko*")}
    builtin = {Path(l).name.split(".ko")[0].replace("-", "_")
               for l in (base / "modules.builtin").read_text().split()}
    order, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in by_name:
            raise QemuError(f"kernel {version} has no module {name}")
        for dep in _run(["modinfo", "-F", "depends", str(by_name[name])]).strip().split(","):
            if dep:
                visit(dep)
        order.append((name, by_name[name]))

    for m in modules:
        visit(m)
    return base, order


def pack(directory, out):
    """A gzipped newc cpio of DIRECTORY (owned by root), written atomically."""
    files = subprocess.run(["find", "."], cwd=directory, capture_output=True, text=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "--owner=0:0"], cwd=directory, input=files.encode(),
                          capture_output=True, check=True).stdout
    tmp = out.with_suffix(".tmp")
    with gzip.open(tmp, "wb", compresslevel=1) as f:
        f.write(cpio)
    tmp.rename(out)


# The director's /init: the root disk's modules, then the harness's seed (the director's
# files, installed at their index.json paths and modes, and its identity), then systemd.
DIRECTOR_INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.list); do insmod "/modules/$m.ko" 2>/dev/null || insmod "/modules/$m.ko.xz"; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot && mount -t ext4 /dev/vda /newroot || { echo "init: no root disk"; poweroff -f; }
# The install: "MODE PATH" lines, the files under /seed/files/PATH.
while read -r mode path; do
  mkdir -p "/newroot$(dirname "$path")"
  cp "/seed/files$path" "/newroot$path" && chmod "$mode" "/newroot$path"
done </seed/install.list
sh /seed/setup.sh /newroot
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
"""


def director_base(version, kroot):
    """The cached initramfs base of a director VM: busybox and the root disk's modules."""
    base, order = module_closure(kroot / "x", version, ROOT_MODULES)
    out = CACHE / f"director-initrd-{version}.cpio.gz"
    if out.exists():
        return out
    stage = Path(tempfile.mkdtemp(prefix="lvsdr-director-initrd-"))
    try:
        for d in ["bin", "proc", "sys", "dev", "modules", "seed"]:
            (stage / d).mkdir(parents=True)
        shutil.copy2("/bin/busybox", stage / "bin/busybox")
        for name, path in order:
            shutil.copy2(path, stage / "modules" / (name + "".join(path.suffixes)))
        (stage / "modules.list").write_text("\n".join(n for n, _ in order) + "\n")
        (stage / "init").write_text(DIRECTOR_INIT)
        (stage / "init").chmod(0o755)
        CACHE.mkdir(parents=True, exist_ok=True)
        pack(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out


class DirectorVM:
    """One director: a TCG VM booting the cached image (target/realhost/director.img,
    copy-on-write per VM) with its part of the tree installed by the initramfs, its NIC a
    tap on BRIDGE in network namespace SEG, its console in WORK/NAME.console."""

    def __init__(self, name, work, seg, bridge, mac, address):
        self.name, self.work, self.seg, self.bridge, self.mac = name, Path(work), seg, bridge, mac
        self.address = address
        self.proc, self.sock, self.buffer, self.next_id = None, None, b"", 0
        self.tap = f"lvt-{name}"[:15]
        self.console = self.work / f"{name}.console"
        self.ctl_path = self.work / f"{name}.ctl"

    def seed(self, tree, director):
        """The director's files from TREE at their index.json paths and modes, and the
        harness's setup: hostname, eth0's NetworkManager keyfile."""
        stage = self.work / f"{self.name}-seed"
        shutil.rmtree(stage, ignore_errors=True)
        (stage / "seed" / "files").mkdir(parents=True)
        lines = []
        for art in director["artifacts"]:
            dest = stage / "seed" / "files" / art["install_path"].lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(tree) / art["path"], dest)
            lines.append(f"{art['mode']} {art['install_path']}")
        (stage / "seed" / "install.list").write_text("\n".join(lines) + "\n")
        keyfile = (f"[connection]\nid=eth0\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\n\n"
                   f"[ethernet]\n\n[ipv4]\nmethod=manual\naddress1={self.address}\n\n[ipv6]\nmethod=disabled\n")
        # Nothing of index.json's steps runs here: the harness runs them in the booted VM,
        # as a user does after installing the files (keepalived is off until then).
        (stage / "seed" / "setup.sh").write_text(
            f"""R=$1
echo {self.name} >"$R/etc/hostname"
printf '%s' '{keyfile}' >"$R/etc/NetworkManager/system-connections/eth0.nmconnection"
chmod 600 "$R/etc/NetworkManager/system-connections/eth0.nmconnection"
""")
        return stage

    def start(self, tree, director, version, kroot):
        stage = self.seed(tree, director)
        pack(stage, self.work / f"{self.name}-seed.cpio.gz")
        initrd = self.work / f"{self.name}-initrd.cpio.gz"
        initrd.write_bytes(director_base(version, kroot).read_bytes() +
                           (self.work / f"{self.name}-seed.cpio.gz").read_bytes())
        image = REALHOST / "director.img"
        if not image.exists():
            raise QemuError(f"{image} is missing: run scripts/realhost/build-director")
        cmd = ["ip", "netns", "exec", self.seg, shutil.which("qemu-system-x86_64"),
               "-accel", "tcg", "-m", "512", "-smp", "1", "-nographic", "-monitor", "none", "-no-reboot",
               "-kernel", str(kroot / "x" / "boot" / f"vmlinuz-{version}"), "-initrd", str(initrd),
               "-append", "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init net.ifnames=0",
               "-drive", f"file={image},format=raw,if=virtio,snapshot=on",
               "-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no",
               "-device", f"virtio-net-pci,netdev=n0,mac={self.mac}",
               "-serial", f"file:{self.console}",
               "-serial", f"unix:{self.ctl_path},server=on,wait=off"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.work / f"{self.name}.qemu.err", "w"))
        # The tap appears when qemu opens it: join it to the segment.
        for _ in range(100):
            if subprocess.run(["ip", "-n", self.seg, "link", "set", self.tap, "master", self.bridge, "up"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise QemuError(f"{self.name}: tap {self.tap} never appeared ({self.err()})")

    def err(self):
        return (self.work / f"{self.name}.qemu.err").read_text().strip()[-400:]

    def connect(self, limit=300):
        """Wait until the control channel answers (systemd is up far enough to run it).
        What the guest writes while nobody is connected is lost, so the harness asks
        (again every 3 s) rather than waits for a greeting."""
        deadline = time.monotonic() + limit
        while True:
            if self.proc.poll() is not None:
                raise QemuError(f"{self.name}: qemu exited {self.proc.returncode}: {self.err()}")
            if self.sock is None:
                sock = socket.socket(socket.AF_UNIX)
                try:
                    sock.connect(str(self.ctl_path))
                    self.sock = sock
                except OSError:
                    sock.close()
            if self.sock is not None:
                try:
                    self.sh("true", limit=3)
                    return
                except QemuError:
                    pass
            if time.monotonic() > deadline:
                raise QemuError(f"{self.name}: the control channel did not answer in {limit} s")
            time.sleep(0.2)

    def _read(self, deadline):
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise QemuError(f"{self.name}: no answer on the control channel")
        if not data:
            raise QemuError(f"{self.name}: the control channel closed")
        self.buffer += data
        if time.monotonic() > deadline:
            raise QemuError(f"{self.name}: no answer on the control channel")

    def sh(self, script, limit=60, check=True):
        """Runs SCRIPT with bash in the VM: (exit status, output)."""
        self.next_id += 1
        tag = f"c{self.next_id}"
        self.sock.sendall(f"{tag} {base64.b64encode(script.encode()).decode()}\n".encode())
        deadline = time.monotonic() + limit
        while True:
            # Complete lines only; anything but this command's answer (an earlier command's
            # late answer, the tty's echo before the channel set it raw) is dropped.
            *complete, self.buffer = self.buffer.split(b"\n")
            for line in complete:
                parts = line.decode(errors="replace").strip().split(" ")
                if len(parts) >= 2 and parts[0] == tag and parts[1].isdigit():
                    out = base64.b64decode(parts[2]).decode(errors="replace") if len(parts) > 2 else ""
                    rc = int(parts[1])
                    if check and rc != 0:
                        raise QemuError(f"{self.name}: `{script.strip()[:120]}` exit {rc}: {out.strip()[-600:]}")
                    return rc, out
            self._read(deadline)

    def kill(self):
        """Power cut: the VM's qemu, which we started, killed by its id."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.sock:
            self.sock.close()
        self.kill()
