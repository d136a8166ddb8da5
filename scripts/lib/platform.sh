# The test harness's model of the platforms, shared by scripts/host-check (through sh)
# and the VM's guest checks (sourced): how a host's boot and change steps from
# index.json run on this machine's tools, and how a dialect's rules differ from the
# seed document's wrong ones. POSIX sh; every name starts with lvsdr_.
#
# A host is a network namespace NS and a root overlay ROOT (its directory of the
# output tree): an install path /etc/x is the file ROOT/etc/x.

# The kernel modules the dialects' rules need (the VM loads them; a full system autoloads).
lvsdr_modules() {
	# overlay: the harness's nmcli is laid over /usr/bin (lvsdr_host_exec).
	echo "arp_tables arptable_filter arpt_mangle nf_tables overlay"
}

# lvsdr_tool DIALECT: the command whose listing the dialect's check reads (the vips
# script keeps every VIP down when it is missing); nothing for the switches, read from /proc.
lvsdr_tool() {
	case $1 in
	arptables | arptables_jf) echo arptables ;;
	nftables) echo nft ;;
	sysctl) ;;
	*)
		echo "lvsdr_tool: unknown dialect $1" >&2
		return 2
		;;
	esac
}

# lvsdr_jf_to_modern FILE: an arptables_jf save file as this machine's arptables
# restores it. The one allowed mapping: IN->INPUT, OUT->OUTPUT, counters and COMMIT
# dropped (arptables_jf's init script strips comments itself), nothing else.
lvsdr_jf_to_modern() {
	sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e '/^COMMIT$/d' \
		-e 's/^\[[0-9]*:[0-9]*\] //' -e 's/^\(:[A-Z]* [A-Z]*\) \[[0-9]*:[0-9]*\]$/\1/' \
		-e 's/^:IN /:INPUT /' -e 's/^:OUT /:OUTPUT /' -e 's/^-A IN /-A INPUT /' -e 's/^-A OUT /-A OUTPUT /' "$1"
}

# lvsdr_seed_rules KIND FILE: the rules file of dialect KIND with the seed document's
# mistake: the output rule matches the VIP as ARP target (-d, arp daddr ip) instead of
# as sender (and, for IPv6, the solicitation's destination instead of its source). A check that accepts this is not checking the right thing.
lvsdr_seed_rules() {
	case $1 in
	arptables | arptables_jf) sed -e 's/-A OUT -s /-A OUT -d /' -e 's/-A OUTPUT -s /-A OUTPUT -d /' "$2" ;;
	# IPv6's like it: the solicitation from a VIP matched by destination.
	nftables) sed -e 's/arp saddr ip \({[^}]*}\) arp saddr ip set/arp daddr ip \1 arp saddr ip set/' \
		-e 's/nd-neighbor-solicit ip6 saddr \({[^}]*}\) ip6 saddr set/nd-neighbor-solicit ip6 daddr \1 ip6 saddr set/' "$2" ;;
	*)
		echo "lvsdr_seed_rules: no seed form for dialect $1" >&2
		return 2
		;;
	esac
}

# lvsdr_seed_nd_dialects: the dialects whose seed form (lvsdr_seed_rules) also gets IPv6
# wrong, so that a control with an IPv6 VIP must see Neighbour Discovery leak.
lvsdr_seed_nd_dialects() {
	echo nftables
}

# lvsdr_nm_state ROOT: what the harness's nmcli says of the host's interface, unless
# LVSDR_NM_STATE says otherwise: NetworkManager has activated it on a NetworkManager host
# (its tree has the dispatcher script), and leaves it unmanaged on any other.
lvsdr_nm_state() {
	if [ -n "${LVSDR_NM_STATE:-}" ]; then
		echo "$LVSDR_NM_STATE"
	elif [ -e "$1/etc/NetworkManager/dispatcher.d/50-lvsdr" ]; then
		echo "100 (connected)"
	else
		echo "10 (unmanaged)"
	fi
}

# lvsdr_host_exec ROOT NS CMD...: CMD in the host's namespace NS as on the host, in a
# private mount namespace: the host's files are laid over /etc and /usr/libexec (read-only
# overlays with ROOT's on top), so its scripts find each other and their files at their
# install paths; and the harness's nmcli (scripts/lib/emulation) is laid over /usr/bin,
# so that the vips script sees the NetworkManager state LVSDR_NM_STATE describes. The vips
# script keeps its state in ${LVSDR_STATE_DIR:-/tmp}/lvsdr-state-NS and its runtime files
# in ${LVSDR_STATE_DIR:-/tmp}/lvsdr-run-NS. (/bin/sh by its path: the VM's busybox
# unshare runs its own shell for a bare "sh", and that shell its own ip.)
lvsdr_host_exec() {
	lvsdr_root=$1 lvsdr_ns=$2
	shift 2
	LVSDR_NM_STATE=$(lvsdr_nm_state "$lvsdr_root") \
		LVSDR_STATE=${LVSDR_STATE_DIR:-/tmp}/lvsdr-state-$lvsdr_ns LVSDR_RUN=${LVSDR_STATE_DIR:-/tmp}/lvsdr-run-$lvsdr_ns \
		unshare -m /bin/sh -c '
		for dir in etc usr/libexec; do
			[ -d "$1/$dir" ] || continue
			mkdir -p "/$dir" || exit 125
			mount -t overlay overlay -o "lowerdir=$1/$dir:/$dir" "/$dir" || exit 125
		done
		mount -t overlay overlay -o "lowerdir=$2/emulation:/usr/bin" /usr/bin || exit 125
		shift 2
		exec ip netns exec "$@"' sh "$lvsdr_root" "$LVSDR_LIB_DIR" "$lvsdr_ns" "$@"
}

# lvsdr_run_step ROOT NS ARGV...: one step of index.json (an argument vector) on the
# host. Service managers are emulated by what the platform's unit or init script does;
# lvsdr's own scripts run from ROOT; any other command runs as it is, with the install
# paths among its arguments read from ROOT. The vips script keeps its state per host in
# ${LVSDR_STATE_DIR:-/tmp}/lvsdr-state-NS.
lvsdr_run_step() {
	lvsdr_root=$1 lvsdr_ns=$2
	shift 2
	case "$*" in
	"/sbin/service arptables_jf restart" | "/sbin/service arptables_jf start")
		# arptables_jf's init script: flush, then the file without comments to arptables-restore -c.
		lvsdr_jf_to_modern "$lvsdr_root/etc/sysconfig/arptables" | ip netns exec "$lvsdr_ns" arptables-restore
		return
		;;
	"/usr/bin/systemctl daemon-reload" | "/usr/bin/systemctl enable "* | "/sbin/chkconfig "*)
		# Configuration of the next boot: the harness boots by index.json's boot steps.
		return 0
		;;
	"/usr/bin/systemctl start "* | "/usr/bin/systemctl restart "*)
		lvsdr_verb=$2
		shift 2
		for lvsdr_unit in "$@"; do
			# A long-running unit (the guard's watch) is started by the harness itself.
			case $lvsdr_unit in *.timer | lvsdr-guard.service) continue ;; esac
			# What systemd runs for the unit: on a restart its ExecStop lines (failures
			# ignored, as their "-" says), then its ExecStart lines, in order.
			if [ "$lvsdr_verb" = restart ]; then
				sed -n 's/^ExecStop=-\{0,1\}//p' "$lvsdr_root/etc/systemd/system/$lvsdr_unit" >"/tmp/lvsdr-exec.$$"
				while read -r lvsdr_line; do
					# shellcheck disable=SC2086
					lvsdr_run_step "$lvsdr_root" "$lvsdr_ns" $lvsdr_line >/dev/null 2>&1
				done <"/tmp/lvsdr-exec.$$"
			fi
			sed -n 's/^ExecStart=-\{0,1\}//p' "$lvsdr_root/etc/systemd/system/$lvsdr_unit" >"/tmp/lvsdr-exec.$$"
			while read -r lvsdr_line; do
				# shellcheck disable=SC2086
				lvsdr_run_step "$lvsdr_root" "$lvsdr_ns" $lvsdr_line || {
					rm -f "/tmp/lvsdr-exec.$$"
					return 1
				}
			done <"/tmp/lvsdr-exec.$$"
			rm -f "/tmp/lvsdr-exec.$$"
		done
		return 0
		;;
	esac
	if [ -f "$lvsdr_root$1" ]; then
		# lvsdr's own script (the vips script), at its install path.
		lvsdr_host_exec "$lvsdr_root" "$lvsdr_ns" sh "$@"
		return
	fi
	lvsdr_cmd=${1##*/}
	shift
	lvsdr_n=$#
	while [ "$lvsdr_n" -gt 0 ]; do
		lvsdr_arg=$1
		shift
		case $lvsdr_arg in /*) [ -e "$lvsdr_root$lvsdr_arg" ] && lvsdr_arg=$lvsdr_root$lvsdr_arg ;; esac
		set -- "$@" "$lvsdr_arg"
		lvsdr_n=$((lvsdr_n - 1))
	done
	ip netns exec "$lvsdr_ns" "$lvsdr_cmd" "$@"
}

# lvsdr_naive_load ROOT NS DIALECT: the host's new rules file loaded straight with the
# dialect's tool, as a handler that ignores index.json's apply steps would: the control
# that shows a change in the wrong order leaks.
lvsdr_naive_load() {
	case $3 in
	arptables_jf) lvsdr_jf_to_modern "$1/etc/sysconfig/arptables" | ip netns exec "$2" arptables-restore ;;
	arptables) ip netns exec "$2" arptables-restore <"$1/etc/sysconfig/arptables" ;;
	nftables) ip netns exec "$2" nft -f "$1/etc/nftables/lvsdr.nft" ;;
	*)
		echo "lvsdr_naive_load: unknown dialect $3" >&2
		return 2
		;;
	esac
}

# lvsdr_installed ROOT NS CMD...: CMD as on the host (lvsdr_host_exec): for the scripts
# that call /usr/libexec/lvsdr/vips (rc.local and ifup-local blocks, NetworkManager's dispatcher).
lvsdr_installed() {
	lvsdr_host_exec "$@"
}

# Where this library's helpers are: set by its callers, or found from $0 when run as a command.
LVSDR_LIB_DIR=${LVSDR_LIB_DIR:-$(cd "$(dirname "$0")" && pwd)}

# Run as a command: sh platform.sh FUNCTION ARGS...
case ${0##*/} in
platform.sh)
	lvsdr_fn=$1
	shift
	"$lvsdr_fn" "$@"
	;;
esac
