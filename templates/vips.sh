#!/bin/sh
{% include "_header.txt" %}
#
# The VIPs of this real server, as /32 host addresses on {{ server.interface }}, each only while
# lvsdr's own ARP suppression rules for it ({{ server.suppression }}) are loaded: after any run
# of this script, no VIP of this host is on an interface without its rules.
#
#   vips up       add every VIP whose rules are loaded; take down every VIP whose rules are
#                 not (fail closed), and the VIPs an earlier tree had that this one has not
#   vips retire   take down only the VIPs an earlier tree had that this one has not
#   vips enforce  take down every VIP whose rules are not loaded; add nothing
#   vips down     take down every VIP this script manages
#   vips status   exit 0 when every VIP is up as a /32 on {{ server.interface }} with its rules
#
# Exit status 1 when a VIP was refused or a command failed (the reason goes to syslog, tag
# lvsdr), 2 on a usage error. Safe to run twice at once. It never uses ifup or
# NetworkManager, which probe for and announce an address.

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH
LVSDR_IF={{ server.interface }}
LVSDR_VIPS="{% for vip in server.vips %}{{ vip.address }}{% if !loop.last %} {% endif %}{% endfor %}"
# The VIPs the last run managed, one per line: how a changed tree finds the VIPs it owned.
LVSDR_STATE=${LVSDR_STATE:-/var/lib/lvsdr/vips}
lvsdr_status=0

lvsdr_log() {
	echo "lvsdr: $*" >&2
	logger -t lvsdr -p daemon.err "$*" 2>/dev/null
	return 0
}

{{ check }}

# lvsdr_label VIP: the VIP's alias label, when it has one.
lvsdr_label() {
	case $1 in
{%- for vip in server.vips %}
{%- if let Some(label) = vip.label %}
	{{ vip.address }}) echo {{ label }} ;;
{%- endif %}
{%- endfor %}
	*) ;;
	esac
}

# lvsdr_where VIP: "DEVICE PREFIX" for every place VIP is configured, on any interface.
lvsdr_where() {
	ip -4 -o addr show | awk -v vip="$1" '{
		for (i = 1; i < NF; i++) if ($i == "inet") {
			split($(i + 1), a, "/"); dev = $2; sub(/@.*/, "", dev)
			if (a[1] == vip) print dev, a[2]
		}
	}'
}

# lvsdr_take_down VIP: VIP on no interface.
lvsdr_take_down() {
	lvsdr_where "$1" | while read -r dev prefix; do
		ip addr del "$1/$prefix" dev "$dev" 2>/dev/null
	done
	if lvsdr_where "$1" | grep -q .; then
		lvsdr_log "could not take VIP $1 down"
		return 1
	fi
}

# lvsdr_bring_up VIP: VIP as a /32 on the interface, and nowhere else.
lvsdr_bring_up() {
	lvsdr_where "$1" | while read -r dev prefix; do
		if [ "$dev" != "$LVSDR_IF" ] || [ "$prefix" != 32 ]; then
			ip addr del "$1/$prefix" dev "$dev" 2>/dev/null
		fi
	done
	lvsdr_where "$1" | grep -q -x -F -e "$LVSDR_IF 32" && return 0
	lvsdr_label=$(lvsdr_label "$1")
	if [ -n "$lvsdr_label" ]; then
		ip addr add "$1/32" brd "$1" dev "$LVSDR_IF" label "$lvsdr_label" 2>/dev/null
	else
		ip addr add "$1/32" brd "$1" dev "$LVSDR_IF" 2>/dev/null
	fi
	# A run at the same time may have added it first.
	if ! lvsdr_where "$1" | grep -q -x -F -e "$LVSDR_IF 32"; then
		lvsdr_log "could not add VIP $1 to $LVSDR_IF"
		return 1
	fi
}

# lvsdr_ours VIP: VIP is one of this tree's.
lvsdr_ours() {
	for lvsdr_vip in $LVSDR_VIPS; do
		[ "$lvsdr_vip" = "$1" ] && return 0
	done
	return 1
}

# lvsdr_guarded VIP: its rules are loaded (and the tool that shows them is installed).
lvsdr_guarded() {
	if ! command -v {{ tool }} >/dev/null 2>&1; then
		lvsdr_log "{{ tool }} is not installed, so no ARP suppression is loaded for VIP $1"
		return 1
	fi
	lvsdr_protected "$1"
}

lvsdr_retire() {
	[ -f "$LVSDR_STATE" ] || return 0
	while read -r lvsdr_old; do
		lvsdr_ours "$lvsdr_old" && continue
		lvsdr_take_down "$lvsdr_old" || lvsdr_status=1
	done <"$LVSDR_STATE"
}

lvsdr_remember() {
	mkdir -p "${LVSDR_STATE%/*}" &&
		printf '%s\n' $LVSDR_VIPS >"$LVSDR_STATE.$$" &&
		mv -f "$LVSDR_STATE.$$" "$LVSDR_STATE" ||
		{ lvsdr_log "could not record the VIPs in $LVSDR_STATE"; lvsdr_status=1; }
}

case $1 in
up)
	lvsdr_retire
	for vip in $LVSDR_VIPS; do
		if lvsdr_guarded "$vip"; then
			lvsdr_bring_up "$vip" || lvsdr_status=1
		else
			lvsdr_log "ARP suppression for VIP $vip is not loaded; keeping it off $LVSDR_IF"
			lvsdr_take_down "$vip"
			lvsdr_status=1
		fi
	done
	lvsdr_remember
	;;
retire)
	lvsdr_retire
	lvsdr_remember
	;;
enforce)
	for vip in $LVSDR_VIPS; do
		lvsdr_where "$vip" | grep -q . || continue
		lvsdr_guarded "$vip" && continue
		lvsdr_log "ARP suppression for VIP $vip is gone; taking it down"
		lvsdr_take_down "$vip"
		lvsdr_status=1
	done
	;;
down)
	lvsdr_retire
	for vip in $LVSDR_VIPS; do
		lvsdr_take_down "$vip" || lvsdr_status=1
	done
	;;
status)
	for vip in $LVSDR_VIPS; do
		if ! lvsdr_guarded "$vip" 2>/dev/null; then
			echo "VIP $vip: ARP suppression not loaded"
			lvsdr_status=1
		elif ! lvsdr_where "$vip" | grep -q -x -F -e "$LVSDR_IF 32"; then
			echo "VIP $vip: not up on $LVSDR_IF"
			lvsdr_status=1
		else
			echo "VIP $vip: up, protected"
		fi
	done
	;;
*)
	echo "usage: $0 up|retire|enforce|down|status" >&2
	exit 2
	;;
esac
exit $lvsdr_status
