# The test harness's model of the platforms, shared by scripts/host-check (through sh)
# and the VM's guest checks (sourced): how a host's boot and change steps from
# index.json run on this machine's tools, and how a dialect's rules differ from the
# seed document's wrong ones. POSIX sh; every name starts with lvsdr_.
#
# A host is a network namespace NS and a root overlay ROOT (its directory of the
# output tree): an install path /etc/x is the file ROOT/etc/x.

# The kernel modules the dialects' rules need (the VM loads them; a full system autoloads).
lvsdr_modules() {
	echo "arp_tables arptable_filter arpt_mangle nf_tables"
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
# as sender. A check that accepts this is not checking the right thing.
lvsdr_seed_rules() {
	case $1 in
	arptables | arptables_jf) sed -e 's/-A OUT -s /-A OUT -d /' -e 's/-A OUTPUT -s /-A OUTPUT -d /' "$2" ;;
	nftables) sed -e 's/arp saddr ip \({[^}]*}\) arp saddr ip set/arp daddr ip \1 arp saddr ip set/' "$2" ;;
	*)
		echo "lvsdr_seed_rules: no seed form for dialect $1" >&2
		return 2
		;;
	esac
}

# lvsdr_run_step ROOT NS ARGV...: one step of index.json (an argument vector) on the
# host. Service managers are emulated by what the platform's unit or init script does;
# a direct command runs as it is, with install paths read from ROOT.
lvsdr_run_step() {
	lvsdr_root=$1 lvsdr_ns=$2
	shift 2
	case "$*" in
	"service arptables_jf restart" | "service arptables_jf start")
		# arptables_jf's init script: flush, then the file without comments to arptables-restore -c.
		lvsdr_jf_to_modern "$lvsdr_root/etc/sysconfig/arptables" | ip netns exec "$lvsdr_ns" arptables-restore
		;;
	"systemctl restart arptables.service" | "systemctl start arptables.service")
		# el7's arptables.service: arptables-restore < /etc/sysconfig/arptables.
		ip netns exec "$lvsdr_ns" arptables-restore <"$lvsdr_root/etc/sysconfig/arptables"
		;;
	"nft -f "/*)
		ip netns exec "$lvsdr_ns" nft -f "$lvsdr_root$3"
		;;
	*)
		echo "lvsdr_run_step: no emulation of step: $*" >&2
		return 2
		;;
	esac
}

# Run as a command: sh platform.sh FUNCTION ARGS...
case ${0##*/} in
platform.sh)
	lvsdr_fn=$1
	shift
	"$lvsdr_fn" "$@"
	;;
esac
