# shellcheck shell=bash
# Real el9-class hosts as systemd-nspawn containers on one L2 segment.
#
#     source scripts/realhost/lib.sh
#     rh_segment_up                      # netns lvh-seg with bridge br0
#     rh_host_start rs1 10.77.0.11       # boots systemd 252 + NetworkManager + firewalld
#     rh_exec rs1 nmcli device           # runs inside rs1 (all its namespaces)
#     rh_client_ns                       # netns lvh-client, eth0 10.77.0.2/24 on br0
#     rh_client arping -c1 -I eth0 10.77.0.11
#     rh_reboot rs1                      # systemctl reboot inside, boots again, same files
#     rh_host_stop rs1; rh_segment_down
#
# Layout (all under $RH_DIR, default <repo>/target/realhost):
#   rootfs/                    built by scripts/realhost/build (never written to)
#   hosts/NAME/root            what the container boots (overlay: upper+work, or a copy)
#   hosts/NAME/console.log     the container's console, every boot appended
#   hosts/NAME/{nspawn.pid,leader.pid,rc,ip,uuid}
#
# How a host is wired (nothing touches the host's own network namespace):
#   netns lvh-NAME  holds eth0 (veth, fixed MAC 52:54:00:4d:<ip3>:<ip4>)
#   netns lvh-seg   holds its peer vh-NAME, enslaved to br0
#   systemd-nspawn --network-namespace-path=/run/netns/lvh-NAME --capability=CAP_NET_ADMIN
#     with SYSTEMD_NSPAWN_API_VFS_WRITABLE=network (so /proc/sys/net is writable in it).
#   Each boot gets a fresh netns (a reboot recreates it), like a real machine's NIC.
# Processes: the harness only ever signals the nspawn PIDs it recorded.

RH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RH_REPO=$(cd "$RH_LIB_DIR/../.." && pwd)
RH_DIR=${RH_DIR:-$RH_REPO/target/realhost}
RH_ROOTFS=${RH_ROOTFS:-$RH_DIR/rootfs}
RH_HOSTS=$RH_DIR/hosts
RH_SEG=${RH_SEG:-lvh-seg}
RH_BR=${RH_BR:-br0}
RH_PREFIX=${RH_PREFIX:-24}
RH_MODE=${RH_MODE:-overlay}          # overlay | copy
RH_TIMEOUT=${RH_TIMEOUT:-120}        # seconds for a boot to be ready
RH_CGROUP=${RH_CGROUP:-lvh}          # cgroup parent (both the name=systemd and the unified tree)
RH_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

rh_log() { printf '[realhost] %s\n' "$*" >&2; }
rh_die() { printf '[realhost] error: %s\n' "$*" >&2; return 1; }
_rh_now() { date +%s.%N; }
_rh_since() { awk -v a="$1" -v b="$(_rh_now)" 'BEGIN{printf "%.1f\n", b - a}'; }

_rh_name_ok() {
  [[ $1 =~ ^[a-z][a-z0-9-]{0,11}$ ]] || rh_die "host name '$1': want [a-z][a-z0-9-]{0,11} (veth names are ≤15 chars)"
}

# ---------------------------------------------------------------- segment
rh_segment_up() {
  ip netns add "$RH_SEG" 2>/dev/null || true
  [[ -e /run/netns/$RH_SEG ]] || rh_die "cannot create netns $RH_SEG" || return
  ip -n "$RH_SEG" link set lo up
  if ! ip -n "$RH_SEG" link show "$RH_BR" >/dev/null 2>&1; then
    ip -n "$RH_SEG" link add "$RH_BR" type bridge stp_state 0 forward_delay 0 || return
  fi
  ip -n "$RH_SEG" link set "$RH_BR" up
}

rh_segment_down() {
  local d
  for d in "$RH_HOSTS"/*/; do
    [[ -d $d ]] || continue
    d=${d%/}; d=${d##*/}
    rh_host_stop "$d" || true
  done
  rh_client_down
  ip netns del "$RH_SEG" 2>/dev/null || true
  rmdir "/sys/fs/cgroup/systemd/$RH_CGROUP" "/sys/fs/cgroup/unified/$RH_CGROUP" 2>/dev/null || true
}

# A veth pair: IFNAME inside netns NS, PEER on the segment's bridge.
_rh_plug() {
  local ns=$1 ifname=$2 peer=$3 mac=$4 i
  ip -n "$RH_SEG" link show "$RH_BR" >/dev/null 2>&1 || rh_die "segment is not up (rh_segment_up)" || return
  # A deleted netns takes its veth (and the peer) with it, a moment later.
  for ((i = 0; i < 50; i++)); do
    ip -n "$RH_SEG" link show "$peer" >/dev/null 2>&1 || break
    sleep 0.1
  done
  ip -n "$RH_SEG" link del "$peer" 2>/dev/null || true
  ip netns add "$ns" || return
  ip -n "$RH_SEG" link add "$peer" type veth peer name "$ifname" netns "$ns" || return
  [[ -z $mac ]] || ip -n "$ns" link set "$ifname" address "$mac" || return
  ip -n "$RH_SEG" link set "$peer" master "$RH_BR" || return
  # RH_CARRIER=down: the host boots with no carrier on eth0 (its switch port down).
  [[ ${RH_CARRIER:-up} == down && $ns != lvh-client ]] || ip -n "$RH_SEG" link set "$peer" up
}

# ---------------------------------------------------------------- client
rh_client_ns() {
  local addr=${1:-10.77.0.2/$RH_PREFIX}
  rh_client_down
  _rh_plug lvh-client eth0 vc-client "" || return
  ip -n lvh-client link set lo up
  ip netns exec lvh-client sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n lvh-client addr add "$addr" dev eth0
  # The segment's IPv6 prefix, for the hosts that have an address6.
  ip -n lvh-client addr add fd77::2/64 dev eth0 nodad
  ip -n lvh-client link set eth0 up
}
rh_client() { ip netns exec lvh-client "$@"; }
rh_client_down() { ip netns del lvh-client 2>/dev/null || true; }

# ---------------------------------------------------------------- hosts
_rh_hd() { printf '%s/%s' "$RH_HOSTS" "$1"; }
# shellcheck disable=SC2086  # split the dotted quad
_rh_mac() { local IFS=.; set -- $1; printf '52:54:00:4d:%02x:%02x' "$3" "$4"; }
_rh_alive() {
  local p; p=$(cat "$(_rh_hd "$1")/nspawn.pid" 2>/dev/null) && [[ -n $p ]] &&
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == systemd-nspawn ]]
}
rh_pid() { cat "$(_rh_hd "$1")/leader.pid"; }   # the container's PID 1, as the host sees it

# Prepare a fresh root for NAME (overlay over rootfs, or a full copy) with its identity.
_rh_prepare() {
  local name=$1 ip=$2 ip6=${3:-} hd t0 uuid
  hd=$(_rh_hd "$name")
  [[ -x $RH_ROOTFS/usr/lib/systemd/systemd ]] || rh_die "no rootfs at $RH_ROOTFS (run scripts/realhost/build)" || return
  _rh_release "$name"
  rm -rf "$hd"
  mkdir -p "$hd/root"
  t0=$(_rh_now)
  case $RH_MODE in
    overlay)
      mkdir -p "$hd/upper" "$hd/work"
      _rh_mount "$name" || return ;;
    copy) cp -a --reflink=auto "$RH_ROOTFS/." "$hd/root/" || return ;;
    *) rh_die "RH_MODE=$RH_MODE: want overlay or copy"; return ;;
  esac
  _rh_since "$t0" >"$hd/prepare.seconds"
  echo "$ip" >"$hd/ip"
  uuid=$(cat /proc/sys/kernel/random/uuid); echo "$uuid" >"$hd/uuid"
  local r=$hd/root
  echo "$name" >"$r/etc/hostname"
  printf '127.0.0.1\tlocalhost\n%s\t%s\n' "$ip" "$name" >"$r/etc/hosts"
  umask 077
  cat >"$r/etc/NetworkManager/system-connections/eth0.nmconnection" <<EOF
[connection]
id=eth0
uuid=$(cat /proc/sys/kernel/random/uuid)
type=ethernet
interface-name=eth0
autoconnect=true

[ethernet]

[ipv4]
method=manual
address1=$ip/$RH_PREFIX
may-fail=false

[ipv6]
$(if [[ -n $ip6 ]]; then printf 'method=manual\naddress1=%s/64\n' "$ip6"; else echo method=disabled; fi)
EOF
  umask 022
}

_rh_mount() {
  local hd; hd=$(_rh_hd "$1")
  [[ $RH_MODE == overlay && -d $hd/upper ]] || return 0
  mountpoint -q "$hd/root" && return 0
  mount -t overlay overlay \
    -o "lowerdir=$RH_ROOTFS,upperdir=$hd/upper,workdir=$hd/work" "$hd/root"
}

# Undo what a boot left on the host: netns (with its veth), cgroups, overlay mount.
_rh_release() {
  local name=$1 hd h; hd=$(_rh_hd "$name")
  ip netns del "lvh-$name" 2>/dev/null || true
  for h in systemd unified; do
    [[ -d /sys/fs/cgroup/$h/$RH_CGROUP/$name ]] &&
      find "/sys/fs/cgroup/$h/$RH_CGROUP/$name" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  if [[ ${2:-} != keep-mount ]] && mountpoint -q "$hd/root" 2>/dev/null; then umount "$hd/root"; fi
  return 0
}

# One boot of NAME's existing root: fresh netns + veth, nspawn in its own cgroup, wait ready.
_rh_boot() {
  local name=$1 hd ip t0 npid leader i h
  hd=$(_rh_hd "$name"); ip=$(cat "$hd/ip")
  _rh_alive "$name" && { rh_die "$name is already running"; return; }
  _rh_release "$name" keep-mount
  _rh_mount "$name" || return
  _rh_plug "lvh-$name" eth0 "vh-$name" "$(_rh_mac "$ip")" || return
  for h in systemd unified; do mkdir -p "/sys/fs/cgroup/$h/$RH_CGROUP/$name" || return; done
  rm -f "$hd/rc" "$hd/leader.pid"
  printf '\n===== boot %s =====\n' "$(date -Is)" >>"$hd/console.log"
  t0=$(_rh_now)
  # The wrapper moves itself into the host's cgroups (--keep-unit makes nspawn use the
  # cgroup it is in, creating payload/ and supervisor/ under it) and records the exit code
  # (133: the container asked for a reboot; 0: poweroff/halt). Double fork: the wrapper is
  # not the caller's child, so a bare `wait` in the caller does not wait for the container.
  ( (
    set +e
    cd /
    for h in systemd unified; do echo "$BASHPID" >"/sys/fs/cgroup/$h/$RH_CGROUP/$name/cgroup.procs"; done
    # shellcheck disable=SC2086  # RH_NSPAWN_ARGS: extra nspawn options, word-split on purpose
    SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn \
      --quiet --boot --directory="$hd/root" --machine="$name" --uuid="$(cat "$hd/uuid")" \
      --register=no --keep-unit \
      --network-namespace-path="/run/netns/lvh-$name" --capability=CAP_NET_ADMIN \
      --console=read-only --resolv-conf=off --timezone=off --link-journal=no \
      ${RH_NSPAWN_ARGS:-} </dev/null >>"$hd/console.log" 2>&1 &
    echo $! >"$hd/nspawn.pid"
    rc=0; wait $! || rc=$?
    echo "$rc" >"$hd/rc"
  ) </dev/null >/dev/null 2>&1 & )
  for ((i = 0; i < 100; i++)); do
    npid=$(cat "$hd/nspawn.pid" 2>/dev/null) && [[ -n $npid ]] &&
      leader=$(pgrep -P "$npid" -x systemd) && break
    [[ -e $hd/rc ]] && break
    sleep 0.1
  done
  [[ -n ${leader:-} ]] || { tail -20 "$hd/console.log" >&2; rh_die "$name: nspawn did not start systemd"; return; }
  echo "$leader" >"$hd/leader.pid"
  _rh_wait_ready "$name" "$t0"
}

# Ready = systemctl is-system-running settles (running|degraded) and NM says eth0 connected.
_rh_wait_ready() {
  local name=$1 t0=$2 hd state dev deadline
  hd=$(_rh_hd "$name"); deadline=$(($(date +%s) + RH_TIMEOUT))
  while :; do
    _rh_alive "$name" || { tail -20 "$hd/console.log" >&2; rh_die "$name: container exited"; return; }
    state=$(rh_exec "$name" timeout 5 systemctl is-system-running --wait 2>/dev/null) || true
    [[ $state == running || $state == degraded ]] && break
    (($(date +%s) < deadline)) || { rh_die "$name: system state '$state' after ${RH_TIMEOUT}s"; return; }
    sleep 0.2
  done
  _rh_since "$t0" >"$hd/system.seconds"
  # RH_CARRIER=down: eth0 cannot be connected yet; ready is the system alone.
  [[ ${RH_CARRIER:-up} == down ]] && { _rh_since "$t0" >"$hd/boot.seconds"; return 0; }
  while :; do
    dev=$(rh_exec "$name" nmcli -g GENERAL.STATE device show eth0 2>/dev/null) || true
    [[ $dev == 100* ]] && break
    (($(date +%s) < deadline)) || { rh_die "$name: eth0 is '$dev' after ${RH_TIMEOUT}s"; return; }
    sleep 0.2
  done
  _rh_since "$t0" >"$hd/boot.seconds"
  [[ $state == running ]] || rh_log "$name: system is $state: $(rh_exec "$name" systemctl --failed --plain --no-legend | tr '\n' ' ')"
  rh_log "$name: up in $(cat "$hd/boot.seconds")s (systemd $state at $(cat "$hd/system.seconds")s, eth0 connected)"
}

# rh_host_start NAME IP [IP6] — a clean host (fresh root from the cached rootfs), booted; its
# keyfile gives eth0 IP/24 and, when IP6 is given, IP6/64 (fd77::/64; else IPv6 disabled).
rh_host_start() {
  local name=$1 ip=$2 ip6=${3:-}
  _rh_name_ok "$name" || return
  [[ $ip =~ ^10\.77\.0\.[0-9]+$ ]] || rh_die "IP '$ip': this harness uses 10.77.0.0/24 only" || return
  [[ -z $ip6 || $ip6 =~ ^fd77::[0-9a-f]+$ ]] || rh_die "IPv6 '$ip6': this harness uses fd77::/64 only" || return
  _rh_alive "$name" && { rh_die "$name is already running"; return; }
  _rh_prepare "$name" "$ip" "$ip6" || return
  _rh_boot "$name"
}

# rh_exec NAME CMD... — runs CMD in all of the container's namespaces, with its root,
# a clean environment, stdin/stdout/stderr passed through; returns CMD's exit code.
rh_exec() {
  local name=$1 leader; shift
  leader=$(rh_pid "$name" 2>/dev/null) && [[ -n $leader ]] || { rh_die "$name is not running"; return 125; }
  nsenter --target "$leader" --all --root --wd \
    env -i PATH="$RH_PATH" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

# rh_sh NAME 'shell script' — rh_exec NAME sh -c '...'
rh_sh() { local n=$1; shift; rh_exec "$n" sh -c "$*"; }

# rh_copy_in NAME SRC DEST — a file (mode kept; DEST ending in / means "into that dir")
# or a directory's contents (into DEST, created).
rh_copy_in() {
  local name=$1 src=$2 dest=$3
  if [[ -d $src ]]; then
    tar -C "$src" -cf - . | rh_exec "$name" sh -c 'mkdir -p "$1" && tar -C "$1" --no-same-owner -xf -' sh "$dest"
  elif [[ -e $src ]]; then
    [[ $dest == */ ]] && dest=$dest${src##*/}
    rh_exec "$name" sh -c 'mkdir -p "${1%/*}" && cat >"$1" && chmod "$2" "$1"' sh "$dest" "$(stat -c %a "$src")" <"$src"
  else
    rh_die "rh_copy_in: no such file: $src"
  fi
}

# Wait until NAME's nspawn has exited (at most $2 seconds); prints its exit code.
_rh_wait_exit() {
  local name=$1 limit=${2:-60} hd i j; hd=$(_rh_hd "$name")
  for ((i = 0; i < limit * 10; i++)); do
    if ! _rh_alive "$name"; then
      for ((j = 0; j < 20; j++)); do [[ -s $hd/rc ]] && break; sleep 0.05; done
      cat "$hd/rc" 2>/dev/null || echo unknown
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# rh_reboot NAME — `systemctl reboot` inside; when the container's systemd has gone
# down (nspawn exits 133) it is booted again from the same root (changes kept), with a
# fresh netns for eth0 (same MAC), as a real reboot would give.
rh_reboot() {
  local name=$1 hd t0 rc; hd=$(_rh_hd "$name")
  _rh_alive "$name" || { rh_die "$name is not running"; return; }
  t0=$(_rh_now)
  rh_exec "$name" systemctl reboot || true
  rc=$(_rh_wait_exit "$name" 90) || { rh_die "$name: did not go down within 90s"; return; }
  [[ $rc == 133 ]] || rh_log "$name: nspawn exited $rc (expected 133 for a reboot)"
  _rh_since "$t0" >"$hd/down.seconds"
  _rh_boot "$name" || return
  _rh_since "$t0" >"$hd/reboot.seconds"
  rh_log "$name: rebooted in $(cat "$hd/reboot.seconds")s (down in $(cat "$hd/down.seconds")s)"
}

# rh_host_stop NAME — `systemctl poweroff` inside (SIGTERM to nspawn, then SIGKILL, if it
# hangs), then releases netns, cgroups and the overlay mount; hosts/NAME stays for logs.
rh_host_stop() {
  local name=$1 hd npid; hd=$(_rh_hd "$name")
  if _rh_alive "$name"; then
    npid=$(cat "$hd/nspawn.pid")
    rh_exec "$name" systemctl poweroff >/dev/null 2>&1 || true
    if ! _rh_wait_exit "$name" 60 >/dev/null; then
      # nspawn turns SIGTERM into SIGRTMIN+3 for the container's systemd (halt).
      rh_log "$name: poweroff timed out; SIGTERM to nspawn $npid"
      _rh_alive "$name" && kill -TERM "$npid"
      _rh_wait_exit "$name" 15 >/dev/null || { _rh_alive "$name" && kill -KILL "$npid"; sleep 1; }
    fi
  fi
  [[ -d $hd ]] && _rh_release "$name"
  return 0
}
