# The sysctl dialect's part of this script: no rules, the kernel's switches on $LVSDR_IF,
# with the VIPs on $LVSDR_DEV. The kernel uses the larger of all.* and the interface's
# value of each switch, so the effective value is what counts: arp_ignore 1, 2 or 8 (never
# answer for an address that is not on the interface asked on), arp_announce exactly 2
# (larger values act as 0). lvsdr sets only $LVSDR_IF's values, never all.*.
# Whether a VIP has rules of its own (a retired VIP is remembered until they are gone): the switches hold for every VIP on lo, none of them a VIP's own.
LVSDR_RULES_PER_VIP=no
LVSDR_TOOL=cat
# The switches this dialect sets (and `load` keeps when a tree moves to it).
LVSDR_SWITCHES="arp_ignore arp_announce"
# Ticks of 0.2 s between two checks: a switch changes without an event, so a `sysctl -w`
# that undoes one is found by polling every 0.8 s.
LVSDR_POLL_TICKS=4

# Lines "NAME VALUE" for all.arp_ignore, all.arp_announce and $LVSDR_IF's; nothing for an
# interface that does not exist.
lvsdr_rules_listing() {
	lvsdr_conf=/proc/sys/net/ipv4/conf
	[ -d "$lvsdr_conf/$LVSDR_IF" ] || return 0
	for lvsdr_dev in all "$LVSDR_IF"; do
		for lvsdr_switch in arp_ignore arp_announce; do
			echo "$lvsdr_dev.$lvsdr_switch $(cat "$lvsdr_conf/$lvsdr_dev/$lvsdr_switch" 2>/dev/null)"
		done
	done
}

# lvsdr_protected_in VIPS: reads lvsdr_rules_listing's output; prints every IPv4 one of VIPS
# when the effective switches of $LVSDR_IF protect a VIP on $LVSDR_DEV, and none otherwise.
# An IPv6 VIP needs no switch: Linux answers a Neighbour Solicitation only for an address
# of the interface it arrived on, so one on $LVSDR_DEV is never answered on $LVSDR_IF (the
# plan refuses it anywhere else); it is printed once $LVSDR_IF exists.
lvsdr_protected_in() {
	awk -v ours="$1" -v dev="$LVSDR_IF" '
		function max(a, b) { return a + 0 > b + 0 ? a + 0 : b + 0 }
		NF == 2 { value[$1] = $2 }
		END {
			if (!((dev ".arp_ignore") in value) || !(("all.arp_ignore") in value)) exit
			ignore = max(value["all.arp_ignore"], value[dev ".arp_ignore"])
			announce = max(value["all.arp_announce"], value[dev ".arp_announce"])
			switched = (ignore == 1 || ignore == 2 || ignore == 8) && announce == 2
			n = split(ours, v, " ")
			for (i = 1; i <= n; i++) if (switched || v[i] ~ /:/) print v[i]
		}'
}

# lvsdr_rules_load: arp_ignore 1 and arp_announce 2 on $LVSDR_IF where the effective value
# is not already protective (an operator's arp_ignore 2 or 8 stays), the values found
# recorded for `unload`. Fails, and says why, changing nothing, when all.* makes the
# effective value wrong: lvsdr never changes all.*, which holds for every interface.
lvsdr_rules_load() {
	lvsdr_conf=/proc/sys/net/ipv4/conf
	[ -d "$lvsdr_conf/$LVSDR_IF" ] || { lvsdr_log "$LVSDR_IF does not exist: its ARP switches cannot be set"; return 1; }
	case $(cat "$lvsdr_conf/all/arp_ignore") in
	0 | 1 | 2 | 8) ;;
	*) lvsdr_log "net.ipv4.conf.all.arp_ignore is $(cat "$lvsdr_conf/all/arp_ignore"): the kernel uses the larger of it and $LVSDR_IF's, which answers ARP for a VIP on $LVSDR_DEV; set it to 0 (or 1, 2, 8)"; return 1 ;;
	esac
	case $(cat "$lvsdr_conf/all/arp_announce") in
	0 | 1 | 2) ;;
	*) lvsdr_log "net.ipv4.conf.all.arp_announce is $(cat "$lvsdr_conf/all/arp_announce"): the kernel uses the larger of it and $LVSDR_IF's, and acts on values over 2 as on 0; set it to 0, 1 or 2"; return 1 ;;
	esac
	case "$(cat "$lvsdr_conf/all/arp_ignore") $(cat "$lvsdr_conf/$LVSDR_IF/arp_ignore")" in
	*" 1" | *" 2" | *" 8" | [128]" 0") ;;
	*) lvsdr_switch arp_ignore 1 || return 1 ;;
	esac
	case "$(cat "$lvsdr_conf/all/arp_announce") $(cat "$lvsdr_conf/$LVSDR_IF/arp_announce")" in
	*" 2" | "2 "[01]) ;;
	*) lvsdr_switch arp_announce 2 || return 1 ;;
	esac
	# Rules hold on every interface, the switches only on $LVSDR_IF: another interface on
	# the clients' segment would answer for the VIPs on $LVSDR_DEV. Said, not refused: most
	# other interfaces (a backup network, a bridge) never see the clients.
	lvsdr_unguarded=
	for lvsdr_other in "$lvsdr_conf"/*; do
		lvsdr_other=${lvsdr_other##*/}
		case $lvsdr_other in all | default | lo | "$LVSDR_IF") continue ;; esac
		lvsdr_a=$(cat "$lvsdr_conf/all/arp_ignore") lvsdr_o=$(cat "$lvsdr_conf/$lvsdr_other/arp_ignore" 2>/dev/null) || continue
		case $((lvsdr_a > lvsdr_o ? lvsdr_a : lvsdr_o)) in
		1 | 2 | 8) ;;
		*) lvsdr_unguarded="$lvsdr_unguarded $lvsdr_other" ;;
		esac
	done
	[ -z "$lvsdr_unguarded" ] ||
		lvsdr_log "warning: ARP for the VIPs on $LVSDR_DEV is answered on$lvsdr_unguarded (arp_ignore 0 there): set their arp_ignore to 1 where they share a segment with the clients"
	return 0
}

# lvsdr_rules_unload: the switches' values lvsdr found, back on $LVSDR_IF.
lvsdr_rules_unload() {
	lvsdr_switches_back
}

# lvsdr_rule_events: none; the switches are polled.
lvsdr_rule_events() {
	return 0
}

# lvsdr_rules_ready: the switches can be set once $LVSDR_IF exists (a boot may run `load`
# before the device appears; `up` then sets them, before any VIP).
lvsdr_rules_ready() {
	[ -d "/proc/sys/net/ipv4/conf/$LVSDR_IF" ]
}
