#!/bin/sh
{% include "_header.txt" %}
#
# The VIPs of this real server, as host addresses on {{ server.vip_device }} (IPv4 /32; IPv6 /128 with
# nodad and preferred_lft 0, so the kernel neither probes for one nor picks it as a source),
# each only while lvsdr's own ARP (and, for IPv6, Neighbour Discovery) suppression for it
# ({{ server.suppression }}, on {{ server.interface }}) is loaded: after any run of this script, no
# VIP of this host is up without it.
#
#   vips up         add every VIP whose rules are loaded; take down every VIP whose rules are
#                   not (fail closed), and the VIPs an earlier tree had that this one has not
#   vips retire     take down only the VIPs an earlier tree had that this one has not
#   vips load       load lvsdr's rules without a moment in which a VIP that stays lacks them
#                   (the VIPs an earlier tree had go down first, as in retire)
#   vips repair     after another program acted: while the VIPs are meant to be up (since the
#                   last `up`, until `down`), load lvsdr's rules again where they are gone
#                   (systemd: while the rules' unit is active) and bring back the VIPs that
#                   were removed; otherwise as `enforce`
#   vips enforce    take down every VIP whose rules are not loaded; add nothing
#   vips down       take down every VIP this script manages
#   vips unload     take every VIP down, then, only if that worked, remove lvsdr's rules
#   vips watch      repair whenever the rules or the addresses change (the guard's loop)
#   vips status [--json]  exit 0 when every VIP is up as a host address on {{ server.vip_device }}, protected
#   vips check-listing    print the VIPs that the rules listing on stdin protects
#
# Exit status 1 when a VIP was refused or a command failed (the reason goes to syslog, tag
# lvsdr), 2 on a usage error. Runs one at a time (flock, where the host has it). It never
# uses ifup or NetworkManager, which probe for and announce an address.

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH
# The interface ARP for the VIPs arrives on, and the device the VIPs live on (the dialect's
# choice: the same interface, or lo behind the interface's switches).
LVSDR_IF={{ server.interface }}
LVSDR_DEV={{ server.vip_device }}
LVSDR_VIPS="{% for vip in server.vips %}{{ vip.address }}{% if !loop.last %} {% endif %}{% endfor %}"
# VIP=label for each VIP that has an alias label.
LVSDR_LABELS="{% for vip in server.vips %}{% if let Some(label) = vip.label %}{{ vip.address }}={{ label }} {% endif %}{% endfor %}"
# The VIPs the last run managed, one per line: how a changed tree finds the VIPs it owned.
LVSDR_STATE=${LVSDR_STATE:-/var/lib/lvsdr/vips}
# Runtime only (emptied at boot): the lock, and the mark that the VIPs are meant to be up.
LVSDR_RUN=${LVSDR_RUN:-/var/run/lvsdr}
lvsdr_status=0
# Computed here only, never taken from the environment.
unset lvsdr_protected

lvsdr_log() {
	echo "lvsdr: $*" >&2
	logger -t lvsdr -p daemon.err "$*" 2>/dev/null
	return 0
}

# lvsdr_retired: the VIPs an earlier tree managed that this one does not.
lvsdr_retired() {
	[ -f "$LVSDR_STATE" ] || return 0
	awk -v ours="$LVSDR_VIPS" 'BEGIN { n = split(ours, o, " "); for (i = 1; i <= n; i++) mine[o[i]] = 1 }
		NF && !($1 in mine) { print $1 }' "$LVSDR_STATE"
}

{{ runtime }}

# lvsdr_protected: the VIPs of this tree whose rules are loaded, from one listing.
lvsdr_protected() {
	if ! command -v $LVSDR_TOOL >/dev/null 2>&1; then
		lvsdr_log "$LVSDR_TOOL is not installed, so no ARP suppression is loaded for the VIPs"
		return 0
	fi
	lvsdr_rules_listing | lvsdr_protected_in "$LVSDR_VIPS"
}
{% if network.name() == "NetworkManager" %}

# lvsdr_network: "ready" when VIPs may be added to $LVSDR_IF now, else why not. Only once
# NetworkManager has activated $LVSDR_IF: an address found on it before that makes
# NetworkManager take the interface over as an external connection, and the admin's own
# profile (the real IP) never comes up. The dispatcher script runs `vips up` at activation.
lvsdr_network() {
	lvsdr_nm=$(nmcli -t -f GENERAL.STATE device show "$LVSDR_IF" 2>/dev/null) || {
		echo "wait: NetworkManager is not running or does not know $LVSDR_IF; the VIPs come up when it activates $LVSDR_IF"
		return
	}
	case ${lvsdr_nm#*:} in
	100*) echo ready ;;
	"10 "* | 10) echo "refuse: NetworkManager does not manage $LVSDR_IF, yet this host's network_stack is NetworkManager: its dispatcher script would never run; let NetworkManager manage $LVSDR_IF (or declare network_stack initscripts)" ;;
	*) echo "wait: NetworkManager has not activated $LVSDR_IF (${lvsdr_nm#*:}); the VIPs come up when it does" ;;
	esac
}
{%- else if network.name() == "InitscriptsBesideNetworkManager" %}

# lvsdr_network: "ready" when VIPs may be added to $LVSDR_IF now, else why not. On this
# release NetworkManager may run beside the network service: where it manages $LVSDR_IF, it
# reads the ifcfg alias files into $LVSDR_IF's connection and announces their addresses by
# ARP where no rule sees it, and ifup hands $LVSDR_IF to it (ifup-local never runs).
lvsdr_network() {
	command -v nmcli >/dev/null 2>&1 || { echo ready; return; }
	lvsdr_nm=$(nmcli -t -f GENERAL.STATE device show "$LVSDR_IF" 2>/dev/null) || { echo ready; return; }
	case ${lvsdr_nm#*:} in
	"10 "* | 10) echo ready ;;
	*) echo "refuse: NetworkManager manages $LVSDR_IF: it reads the ifcfg alias files and announces their addresses; set NM_CONTROLLED=no in ifcfg-$LVSDR_IF and restart NetworkManager (or declare network_stack NetworkManager)" ;;
	esac
}
{%- else %}

# lvsdr_network: "ready": on this release NetworkManager never manages $LVSDR_IF.
lvsdr_network() {
	echo ready
}
{%- endif %}

# lvsdr_nm_owned: the VIPs of this tree that the NetworkManager connection active on
# $LVSDR_IF configures: NetworkManager announces those by ARP at every activation, where no
# rule or switch sees it. (Only that one: NetworkManager announces on the device it
# configures, and it lists the addresses it finds on lo in a generated connection of its
# own, the sysctl dialect's VIPs among them, which it never announces.)
lvsdr_nm_owned() {
	command -v nmcli >/dev/null 2>&1 || return 0
	# -t -f, not -g: NetworkManager 1.0-1.6 (RHEL 7.0-7.3) have no -g.
	lvsdr_uuid=$(nmcli -t -f GENERAL.CON-UUID device show "$LVSDR_IF" 2>/dev/null)
	lvsdr_uuid=${lvsdr_uuid#*:}
	case $lvsdr_uuid in "" | --) return 0 ;; esac
	# Terse output escapes the colons of IPv6 text ("2001\:db8\:\:100/128").
	nmcli -t -f ipv4.addresses,ipv6.addresses connection show "$lvsdr_uuid" 2>/dev/null | awk -v ours="$LVSDR_VIPS" '
		BEGIN { n = split(ours, o, " "); for (i = 1; i <= n; i++) mine[o[i]] = 1 }
		{
			line = $0
			sub(/^ipv[46]\.addresses:[ \t]*/, "", line)
			gsub(/\\:/, ":", line)
			n = split(line, t, /[ ,;]+/)
			for (i = 1; i <= n; i++) {
				a = t[i]
				sub(/\/.*/, "", a)
				if (a in mine && !(a in seen)) { seen[a] = 1; print a }
			}
		}'
}

# lvsdr_plan MODE: from one listing of the addresses (stdin) and the lists gathered before,
# the `ip` commands that bring the addresses where MODE wants them ("addr ..." lines), and
# what to log ("log ..."). MODE: up, enforce, down, or status (lines "VIP up device
# protected problem", or JSON with LVSDR_JSON=1).
lvsdr_plan() {
	awk -v mode="$1" -v dev="$LVSDR_DEV" -v ours="$LVSDR_VIPS" -v labels="$LVSDR_LABELS" \
		-v protected="$lvsdr_protected" -v retired="$lvsdr_retired" -v owned="$lvsdr_owned" \
		-v network="$lvsdr_network" -v json="${LVSDR_JSON:-0}" -v arp_if="$LVSDR_IF" -v v6off="$lvsdr_v6off" '
		function set(list, into,    t, i, n) { n = split(list, t, " "); for (i = 1; i <= n; i++) into[t[i]] = 1 }
		# IPv6 text has colons: such a VIP is a /128, added with the flags that keep it out
		# of duplicate address detection and of source address selection.
		function host(v) { return v ~ /:/ ? 128 : 32 }
		function suppression(v) { return v ~ /:/ ? "Neighbour Discovery suppression" : "ARP suppression" }
		function take_down(v,    p, i, n) {
			n = split(places[v], p, " ")
			for (i = 1; i <= n; i++) print "addr del " v "/" substr(p[i], index(p[i], "/") + 1) " dev " substr(p[i], 1, index(p[i], "/") - 1)
		}
		function bring_up(v,    p, i, n) {
			n = split(places[v], p, " ")
			for (i = 1; i <= n; i++) if (p[i] != dev "/" host(v)) print "addr del " v "/" substr(p[i], index(p[i], "/") + 1) " dev " substr(p[i], 1, index(p[i], "/") - 1)
			if (good[v]) return
			if (host(v) == 32) {
				print "addr add " v "/32 brd " v " dev " dev ((v in label) ? " label " label[v] : "")
				return
			}
			# Present but still probing, failed by a probe, or preferred: added again, as the
			# kernel keeps those states through a replace.
			if (index(places[v] " ", " " dev "/128 ")) print "addr del " v "/128 dev " dev
			print "addr add " v "/128 dev " dev " nodad preferred_lft 0"
		}
		function quote(s) { gsub(/["\\]/, "\\\\&", s); return "\"" s "\"" }
		BEGIN {
			nv = split(ours, vip, " ")
			for (i = 1; i <= nv; i++) mine[vip[i]] = 1
			set(protected, is_protected); set(retired, is_retired); set(owned, is_owned)
			n = split(labels, t, " ")
			for (i = 1; i <= n; i++) { k = index(t[i], "="); label[substr(t[i], 1, k - 1)] = substr(t[i], k + 1) }
			reason = network; sub(/^[a-z]*: /, "", reason)
		}
		{
			for (i = 1; i < NF; i++) if ($i == "inet" || $i == "inet6") {
				split($(i + 1), a, "/"); d = $2; sub(/@.*/, "", d); sub(/:$/, "", d)
				if ((a[1] in mine) || (a[1] in is_retired)) {
					places[a[1]] = places[a[1]] " " d "/" a[2]
					# An IPv6 VIP counts once deprecated (preferred_lft 0) and past DAD.
					if (d == dev && a[2] == host(a[1]) && ($i == "inet" || ($0 ~ / deprecated/ && $0 !~ / (tentative|dadfailed)/))) good[a[1]] = 1
				}
			}
		}
		END {
			if (mode != "status" && mode != "enforce") for (v in is_retired) take_down(v)
			for (i = 1; i <= nv; i++) {
				v = vip[i]
				if (mode == "retire") continue
				if (mode == "down") { take_down(v); continue }
				if (mode == "status") {
					problem = ""
					if (!(v in is_protected)) problem = suppression(v) " not loaded"
					else if (v in is_owned) problem = "NetworkManager configures it in an active connection, and announces it"
					else if (!good[v] && host(v) == 128 && v6off) problem = "IPv6 is disabled on " dev
					else if (!good[v]) problem = (network == "ready") ? "not up on " dev : reason
					else if (places[v] != " " dev "/" host(v)) problem = "also on" places[v]
					if (problem != "") failed = 1
					where = places[v]; sub(/^ /, "", where); gsub(/ /, "\",\"", where)
					if (json) {
						out = out (i > 1 ? "," : "") "{\"address\":" quote(v) ",\"up\":" (good[v] ? "true" : "false") \
							",\"on\":[" (where == "" ? "" : "\"" where "\"") "]" ",\"label\":" ((v in label) ? quote(label[v]) : "null") \
							",\"protected\":" ((v in is_protected) ? "true" : "false") ",\"problem\":" (problem == "" ? "null" : quote(problem)) "}"
					} else if (problem == "") print "VIP " v ": up on " dev ", protected"
					else print "VIP " v ": " problem
					continue
				}
				if (!(v in is_protected)) {
					if (places[v] != "" || mode == "up") print "log " suppression(v) " for VIP " v " is not loaded; keeping it off " dev
					if (places[v] != "" || mode == "up") print "fail"
					take_down(v)
				} else if (mode == "enforce") {
					continue
				} else if (v in is_owned) {
					print "log NetworkManager configures VIP " v " in an active connection and announces it; remove it from the connection (nmcli connection modify ID -ipv" (host(v) == 128 ? 6 : 4) ".addresses " v "/" host(v) ")"
					print "fail"
					take_down(v)
				} else if (network ~ /^refuse/) {
					if (!refused++) print "log " reason
					print "fail"
					take_down(v)
				} else if (network == "ready" && host(v) == 128 && v6off && !good[v]) {
					if (!v6said++) print "log IPv6 is disabled on " dev " (net.ipv6.conf." dev ".disable_ipv6, or ipv6.disable=1 at boot): its IPv6 VIPs stay down"
					print "fail"
					take_down(v)
				} else if (network == "ready") {
					bring_up(v)
				} else if (!waited++) print "log " reason
			}
			if (mode == "status" && json)
				printf "{\"interface\":%s,\"device\":%s,\"ok\":%s,\"network\":%s,\"vips\":[%s]}\n", quote(arp_if), quote(dev), failed ? "false" : "true", quote(network == "ready" ? "ready" : reason), out
			if (mode == "status" && failed) exit 1
		}'
}

# lvsdr_addr_batch: runs the "addr ..." lines of stdin as ip commands, in one process where
# this ip has -batch.
lvsdr_addr_batch() {
	if ip -force -batch /dev/null >/dev/null 2>&1; then
		ip -force -batch - >/dev/null 2>&1
	else
		while read -r lvsdr_line; do
			# shellcheck disable=SC2086
			ip $lvsdr_line >/dev/null 2>&1
		done
	fi
	return 0
}

# lvsdr_ipv6_off: "1" when this tree has IPv6 VIPs and $LVSDR_DEV cannot hold them (IPv6
# disabled on it, or in the whole kernel).
lvsdr_ipv6_off() {
	case $LVSDR_VIPS in *:*) ;; *) return 0 ;; esac
	[ "$(cat "/proc/sys/net/ipv6/conf/$LVSDR_DEV/disable_ipv6" 2>/dev/null)" = 0 ] || echo 1
}

# lvsdr_converge MODE [repair]: gathers the rules (unless the caller has, in
# lvsdr_protected), the network's readiness and the addresses once each, applies the plan,
# and checks the result with a second listing: what is left to do then is a failure. A
# repair asks NetworkManager only when a VIP is to be added, and not which VIPs its
# connections configure (vips up and status do).
lvsdr_converge() {
	[ -n "${lvsdr_protected+set}" ] || lvsdr_protected=$(lvsdr_protected)
	lvsdr_retired=$(lvsdr_retired)
	lvsdr_network=ready
	lvsdr_owned=
	lvsdr_v6off=$(lvsdr_ipv6_off)
	lvsdr_addrs=$(ip -o addr show 2>/dev/null)
	lvsdr_plan=$(printf '%s\n' "$lvsdr_addrs" | lvsdr_plan "$1")
	if [ "$1" = up ] && [ -n "$LVSDR_VIPS" ]; then
		case "$2 $lvsdr_plan" in
		"repair "*"addr add"* | " "*)
			lvsdr_network=$(lvsdr_network)
			[ "$2" = repair ] || lvsdr_owned=$(lvsdr_nm_owned)
			lvsdr_plan=$(printf '%s\n' "$lvsdr_addrs" | lvsdr_plan "$1")
			;;
		esac
	fi
	printf '%s\n' "$lvsdr_plan" | sed -n 's/^log //p' | while read -r lvsdr_line; do lvsdr_log "$lvsdr_line"; done
	printf '%s\n' "$lvsdr_plan" | grep -qx fail && lvsdr_status=1
	case $lvsdr_plan in *"addr "*) ;; *) return 0 ;; esac
	printf '%s\n' "$lvsdr_plan" | grep '^addr ' | lvsdr_addr_batch
	ip -o addr show 2>/dev/null | lvsdr_plan "$1" | sed -n 's/^addr add \([^/]*\).*/could not add VIP \1 to '"$LVSDR_DEV"'/p; s/^addr del \([^/]*\).*/could not take VIP \1 down/p' >"$LVSDR_RUN/left.$$"
	while read -r lvsdr_line; do
		lvsdr_log "$lvsdr_line"
		lvsdr_status=1
	done <"$LVSDR_RUN/left.$$"
	rm -f "$LVSDR_RUN/left.$$"
}

# lvsdr_remember: this tree's VIPs, and an earlier tree's VIPs that are not gone yet (still
# up, or their rules still loaded), so that a later run still takes them down and removes
# their rules.
lvsdr_remember() {
	lvsdr_pending=
	lvsdr_retired=$(lvsdr_retired)
	if [ -n "$lvsdr_retired" ]; then
		lvsdr_pending=$( (
			# A retired VIP's own rules still loaded (a dialect whose lock is not per VIP has
			# none to wait for).
			[ "$LVSDR_RULES_PER_VIP" = no ] || lvsdr_rules_listing | lvsdr_protected_in "$(echo $lvsdr_retired)"
			ip -o addr show 2>/dev/null | awk -v old="$(echo $lvsdr_retired)" '
				BEGIN { n = split(old, o, " "); for (i = 1; i <= n; i++) was[o[i]] = 1 }
				{ for (i = 1; i < NF; i++) if ($i == "inet" || $i == "inet6") { split($(i + 1), a, "/"); if (a[1] in was) print a[1] } }'
		) | sort -u)
	fi
	mkdir -p "${LVSDR_STATE%/*}" &&
		printf '%s\n' $LVSDR_VIPS $lvsdr_pending >"$LVSDR_STATE.$$" &&
		mv -f "$LVSDR_STATE.$$" "$LVSDR_STATE" ||
		{ lvsdr_log "could not record the VIPs in $LVSDR_STATE"; lvsdr_status=1; }
}

# The switches lvsdr set are recorded in $LVSDR_STATE.switches, a line each:
# "INTERFACE NAME FOUND SET": the value found before lvsdr first changed it and the value
# lvsdr set. Putting one back happens only while the switch still holds what lvsdr set (an
# operator's later value stays). Older trees wrote "NAME VALUE" lines, or one bare
# arp_announce value, always for this tree's interface: read as such.

# lvsdr_switches_read: the records, in the current form, on stdout.
lvsdr_switches_read() {
	[ -f "$LVSDR_STATE.switches" ] || return 0
	awk -v dev="$LVSDR_IF" '
		NF == 1 && $1 ~ /^[0-9]+$/ { print dev, "arp_announce", $1, 2; next }
		NF == 2 && $2 ~ /^[0-9]+$/ { print dev, $1, $2, ($1 == "arp_ignore" ? 1 : 2); next }
		NF == 4 && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ && !seen[$1 " " $2]++ { print }
	' "$LVSDR_STATE.switches"
}

# lvsdr_switches_write: stdin becomes $LVSDR_STATE.switches, atomically (a run cut short
# must not leave half a record, which a later run would take for the values found).
lvsdr_switches_write() {
	mkdir -p "${LVSDR_STATE%/*}" && cat >"$LVSDR_STATE.switches.$$" || return 1
	if [ -s "$LVSDR_STATE.switches.$$" ]; then
		mv -f "$LVSDR_STATE.switches.$$" "$LVSDR_STATE.switches"
	else
		rm -f "$LVSDR_STATE.switches.$$" "$LVSDR_STATE.switches"
	fi
}

# lvsdr_switch NAME VALUE: $LVSDR_IF's switch NAME (arp_ignore, arp_announce) set to VALUE,
# the value found recorded first.
lvsdr_switch() {
	lvsdr_found=$(cat "/proc/sys/net/ipv4/conf/$LVSDR_IF/$1" 2>/dev/null)
	case $lvsdr_found in
	"" | *[!0-9]*) lvsdr_log "could not read $LVSDR_IF's $1"; return 1 ;;
	esac
	[ "$lvsdr_found" != "$2" ] || return 0
	lvsdr_records=$(lvsdr_switches_read)
	{
		printf '%s\n' "$lvsdr_records" | awk -v dev="$LVSDR_IF" -v name="$1" -v set="$2" '
			NF == 4 && $1 == dev && $2 == name { $4 = set } NF == 4 { print }'
		printf '%s\n' "$lvsdr_records" | grep -q "^$LVSDR_IF $1 " || echo "$LVSDR_IF $1 $lvsdr_found $2"
	} | lvsdr_switches_write || { lvsdr_log "could not record $LVSDR_IF's $1 in $LVSDR_STATE.switches"; return 1; }
	echo "$2" >"/proc/sys/net/ipv4/conf/$LVSDR_IF/$1"
}

# lvsdr_switches: arp_announce 2 on $LVSDR_IF, for every dialect: a second line behind an
# output rule that no flush of a ruleset removes: the kernel then sends ARP from the address
# whose subnet holds the target, never from a /32 VIP. Set before any VIP is added.
# all.arp_announce is left alone (the kernel takes the larger of the two).
lvsdr_switches() {
	[ -d "/proc/sys/net/ipv4/conf/$LVSDR_IF" ] || return 0
	case "$(cat /proc/sys/net/ipv4/conf/all/arp_announce) $(cat "/proc/sys/net/ipv4/conf/$LVSDR_IF/arp_announce")" in
	[01]" "[01]) lvsdr_switch arp_announce 2 ;;
	esac
	return 0
}

# lvsdr_switches_back [KEEP]: every switch lvsdr set put back to the value found, but those
# of $LVSDR_IF named in KEEP (the ones this tree's dialect owns); a switch of an interface
# this tree no longer uses always goes back.
lvsdr_switches_back() {
	[ -f "$LVSDR_STATE.switches" ] || return 0
	lvsdr_switches_read | while read -r lvsdr_dev lvsdr_name lvsdr_found lvsdr_set; do
		case "$lvsdr_dev: $1 " in
		"$LVSDR_IF: "*"$lvsdr_name "*)
			echo "$lvsdr_dev $lvsdr_name $lvsdr_found $lvsdr_set"
			continue
			;;
		esac
		lvsdr_path=/proc/sys/net/ipv4/conf/$lvsdr_dev/$lvsdr_name
		if [ -f "$lvsdr_path" ] && [ "$(cat "$lvsdr_path")" = "$lvsdr_set" ]; then
			echo "$lvsdr_found" >"$lvsdr_path"
		elif [ -f "$lvsdr_path" ]; then
			lvsdr_log "$lvsdr_dev's $lvsdr_name is $(cat "$lvsdr_path"), not the $lvsdr_set lvsdr set: leaving it"
		fi
	done | lvsdr_switches_write
}

# lvsdr_load_now: loads the ARP suppression and checks that it protects every VIP of this
# tree; a switch an earlier tree's dialect set and this one does not use goes back.
lvsdr_load_now() {
	rm -f "$LVSDR_RUN/deferred"
	lvsdr_rules_load || { lvsdr_log "could not load the ARP suppression ({{ server.suppression }})"; lvsdr_status=1; return; }
	lvsdr_missing=$(lvsdr_protected | awk -v ours="$LVSDR_VIPS" '{ have[$1] = 1 }
		END { n = split(ours, o, " "); for (i = 1; i <= n; i++) if (!(o[i] in have)) printf "%s ", o[i] }')
	if [ -n "$lvsdr_missing" ]; then
		lvsdr_log "after loading, the ARP suppression ({{ server.suppression }}) of VIP(s) ${lvsdr_missing% } is not as lvsdr wrote it"
		lvsdr_status=1
	else
		# Only now: the VIPs may still be where an earlier dialect put them, behind its lock.
		lvsdr_switches_back "$LVSDR_SWITCHES"
	fi
}

# lvsdr_lock: one run at a time; the guard's repairs wait for an apply's steps.
lvsdr_lock() {
	mkdir -p "$LVSDR_RUN" || { lvsdr_log "cannot create $LVSDR_RUN"; exit 1; }
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"$LVSDR_RUN/lock"
	# flock -n, tried for a minute: every flock has -n (busybox's has no -w).
	lvsdr_tries=0
	until flock -n 9; do
		lvsdr_tries=$((lvsdr_tries + 1))
		[ $lvsdr_tries -lt 600 ] || { lvsdr_log "another run of $0 holds $LVSDR_RUN/lock"; exit 1; }
		sleep 0.1 2>/dev/null || sleep 1
	done
}

# lvsdr_watch: repairs at once after a change to lvsdr's rules or a removed address, and at
# least every LVSDR_POLL_TICKS ticks of 0.2 s; a burst of changes runs one repair a tick.
# Each repair is a new run of this file, so an installed new tree is the one that repairs.
lvsdr_watch() {
	mkdir -p "$LVSDR_RUN" || exit 1
	# A watch already runs when the recorded process is alive and is a watch (a pid can
	# be reused by anything).
	lvsdr_pid=$(cat "$LVSDR_RUN/watch.pid" 2>/dev/null)
	if [ -n "$lvsdr_pid" ] && [ "$lvsdr_pid" != $$ ] && tr '\0' ' ' <"/proc/$lvsdr_pid/cmdline" 2>/dev/null | grep -q " watch"; then
		echo "lvsdr: a watch already runs (pid $lvsdr_pid)" >&2
		exit 0
	fi
	echo $$ >"$LVSDR_RUN/watch.pid"
	# On TERM: the traps go first, since `kill 0` signals this shell too (a trap still set
	# would run again for it, and again, until the shell's stack gives out), then the
	# whole group (the monitors, the ticks, a repair in progress) ends with it.
	trap 'trap - TERM INT EXIT; rm -f "$LVSDR_RUN/watch.pid"; kill 0' TERM INT
	trap 'rm -f "$LVSDR_RUN/watch.pid"' EXIT
	lvsdr_self=$0
	sh "$lvsdr_self" repair
	{
		lvsdr_rule_events &
		# Links too: an interface created again (a VLAN or bond on a re-activation) starts
		# from default.*, without the switches.
		ip monitor address link 2>/dev/null &
		while :; do
			echo tick
			sleep 0.2 2>/dev/null || sleep 1
		done
	} | {
		# Read by the shell, line by line: an awk here may wait for a full buffer.
		lvsdr_sent=0 lvsdr_pending=0 lvsdr_ticks=0
		while read -r lvsdr_line; do
			case $lvsdr_line in
			tick)
				lvsdr_sent=0
				lvsdr_ticks=$((lvsdr_ticks + 1))
				if [ $lvsdr_pending = 1 ] || [ $lvsdr_ticks -ge "$LVSDR_POLL_TICKS" ]; then
					lvsdr_pending=0 lvsdr_ticks=0
					sh "$lvsdr_self" repair
				fi
				;;
			"Deleted "* | "delete "*" arp lvsdr" | "delete "*" arp lvsdr "* | "delete "*" ip6 lvsdr" | "delete "*" ip6 lvsdr "* | [0-9]*": $LVSDR_IF: "* | [0-9]*": $LVSDR_IF@"*)
				if [ $lvsdr_sent = 0 ]; then
					lvsdr_sent=1 lvsdr_ticks=0
					sh "$lvsdr_self" repair
				else
					lvsdr_pending=1
				fi
				;;
			*) ;;
			esac
		done
	}
}

case $1 in
up)
	lvsdr_lock
	# A load that found no interface to lock left it to this run.
	[ ! -f "$LVSDR_RUN/deferred" ] || ! lvsdr_rules_ready || lvsdr_load_now
	lvsdr_switches
	lvsdr_converge up
	: >"$LVSDR_RUN/up"
	lvsdr_remember
	;;
retire)
	lvsdr_lock
	lvsdr_converge retire
	lvsdr_remember
	;;
load)
	lvsdr_lock
	# The VIPs an earlier tree had go down first: loading drops their rules.
	lvsdr_converge retire
	if lvsdr_rules_ready; then
		lvsdr_load_now
	else
		# Nothing can be up without it: `up` (and the guard) load it once it can be.
		lvsdr_log "$LVSDR_IF does not exist yet: the ARP suppression ({{ server.suppression }}) is loaded when it does, before any VIP"
		: >"$LVSDR_RUN/deferred"
		lvsdr_converge enforce
	fi
	;;
repair)
	lvsdr_lock
	if [ -f "$LVSDR_RUN/up" ]; then
		lvsdr_protected=$(lvsdr_protected)
		if [ "$lvsdr_protected" != "$(printf '%s\n' $LVSDR_VIPS)" ]; then
			# The VIPs an earlier tree had go down before a load drops their rules.
			lvsdr_converge retire
{%- if let Some(unit) = rules_unit %}
			# Only while the rules' unit is active: a stopped or masked unit means no rules.
			if systemctl is-active --quiet {{ unit }}; then
				lvsdr_log "the ARP suppression ({{ server.suppression }}) is gone; loading it again"
				lvsdr_load_now
			else
				lvsdr_log "the ARP suppression ({{ server.suppression }}) is gone and {{ unit }} is not active: keeping the VIPs without it down"
			fi
{%- else %}
			lvsdr_log "the ARP suppression ({{ server.suppression }}) is gone; loading it again"
			lvsdr_load_now
{%- endif %}
			lvsdr_protected=$(lvsdr_protected)
		fi
		lvsdr_switches
		lvsdr_converge up repair
		[ "$(cat "$LVSDR_STATE" 2>/dev/null)" = "$(printf '%s\n' $LVSDR_VIPS)" ] || lvsdr_remember
	else
		lvsdr_converge enforce
	fi
	;;
enforce)
	lvsdr_lock
	lvsdr_converge enforce
	;;
down)
	lvsdr_lock
	rm -f "$LVSDR_RUN/up"
	lvsdr_converge down
	;;
unload)
	lvsdr_lock
	rm -f "$LVSDR_RUN/up" "$LVSDR_RUN/deferred"
	lvsdr_converge down
	if [ $lvsdr_status = 0 ]; then
		lvsdr_rules_unload || { lvsdr_log "could not remove the ARP suppression ({{ server.suppression }})"; lvsdr_status=1; }
		lvsdr_switches_back
	else
		lvsdr_log "a VIP is still up: leaving the ARP suppression ({{ server.suppression }}) loaded"
	fi
	;;
watch)
	lvsdr_watch
	;;
check-listing)
	lvsdr_protected_in "$LVSDR_VIPS"
	;;
status)
	case $2 in --json) LVSDR_JSON=1 ;; "") ;; *)
		echo "usage: $0 status [--json]" >&2
		exit 2
		;;
	esac
	lvsdr_protected=$(lvsdr_protected 2>/dev/null)
	lvsdr_retired=
	lvsdr_network=ready
	lvsdr_owned=
	lvsdr_v6off=$(lvsdr_ipv6_off)
	if [ -n "$LVSDR_VIPS" ]; then
		lvsdr_network=$(lvsdr_network)
		lvsdr_owned=$(lvsdr_nm_owned)
	fi
	ip -o addr show 2>/dev/null | lvsdr_plan status || lvsdr_status=1
	;;
*)
	echo "usage: $0 up|retire|load|repair|enforce|down|unload|watch|status [--json]|check-listing" >&2
	exit 2
	;;
esac
exit $lvsdr_status
