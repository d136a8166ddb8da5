# The checks inside the VM (dash, with busybox's applets). For each cluster N,
# /check/trees/N/real and /check/trees/N/control each hold a compiled tree (tree/) and
# the facts about it in line-oriented files written by scripts/vm-check: servers,
# vips, directors, services, members, client, cluster.
#
# Every host is a network namespace with a veth on the bridge br0. Real servers
# boot from their trees by index.json's boot steps: what runs before the network (the
# rules), then the interface, then what runs after (the vips script). Every result is one line: "VMCHECK ok ..." or "VMCHECK FAIL ...".

PHASE_LABEL=""

ok() { echo "VMCHECK ok ${PHASE_LABEL}$*"; }
fail() { echo "VMCHECK FAIL ${PHASE_LABEL}$*"; }
info() { echo "VMCHECK info $*"; }

in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

peer_count=0
# add_host NS IFNAME MAC CIDR [CIDR6]: a namespace with one veth on br0, and its IPv6
# address where it has one ("-" or nothing: none). No duplicate address detection: every
# address, link-local ones included, is usable at once.
add_host() {
	peer_count=$((peer_count + 1))
	ip netns list | grep -q "^$1\( \|$\)" || ip netns add "$1"
	in_ns "$1" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad; echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad'
	ip link add "$2" netns "$1" type veth peer name "p$peer_count"
	ip link set "p$peer_count" master br0 up
	ip -n "$1" link set lo up
	ip -n "$1" link set "$2" address "$3"
	ip -n "$1" link set "$2" up
	ip -n "$1" addr add "$4" dev "$2"
	case ${5:--} in -) ;; *) ip -n "$1" addr add "$5" dev "$2" nodad ;; esac
}

# endpoint ADDRESS PORT: ADDRESS:PORT as ipvsadm and socat write it (IPv6 in brackets).
endpoint() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# listen NS PROTO ADDRESS PORT ANSWER: a server answering ANSWER on ADDRESS:PORT.
listen() {
	case $3 in *:*) six=6 bind="[$3]" ;; *) six= bind=$3 ;; esac
	if [ "$2" = tcp ]; then
		in_ns "$1" socat "TCP$six-LISTEN:$4,bind=$bind,fork,reuseaddr" "SYSTEM:echo $5" </dev/null >/dev/null 2>&1 &
	else
		in_ns "$1" socat "UDP$six-RECVFROM:$4,bind=$bind,fork" "SYSTEM:echo $5" </dev/null >/dev/null 2>&1 &
	fi
}

remove_host() {
	for pid in $(ip netns pids "$1" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	ip netns del "$1" 2>/dev/null
}

# capture_start NAME / capture_stop: ARP (/tmp/arp-NAME) and ICMPv6 (/tmp/nd-NAME) on the
# bridge, with MAC addresses.
capture_start() {
	capture_file=/tmp/arp-$1
	rm -f /tmp/tcpdump.err /tmp/tcpdump6.err
	tcpdump -l -n -e -i br0 arp >"$capture_file" 2>/tmp/tcpdump.err &
	capture_pid=$!
	tcpdump -l -n -e -i br0 icmp6 >"/tmp/nd-$1" 2>/tmp/tcpdump6.err &
	capture6_pid=$!
	i=0
	while ! { grep -q listening /tmp/tcpdump.err && grep -q listening /tmp/tcpdump6.err; } 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
capture_stop() {
	sleep 0.5
	kill "$capture_pid" "$capture6_pid" 2>/dev/null
	wait "$capture_pid" "$capture6_pid" 2>/dev/null
}

# The shared test library: lvsdr_run_step runs index.json's load steps as the platform would.
LVSDR_LIB_DIR=/check
. /check/platform.sh

# run_steps PHASE NAME NS: index.json's steps of PHASE (boot_before, boot_after, apply)
# for the real server, in order, as its platform runs them.
run_steps() {
	grep "^$2 " "${PLAN_STEPS:-$PLAN/$1}" | while read -r _ step; do
		# The steps are argument vectors of validated words, one per line: split on spaces.
		# shellcheck disable=SC2086
		lvsdr_run_step "$TREE/$2" "$3" $step || return 1
	done
}

server_field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$PLAN/servers"; }

# boot_server NAME [ifcfg]: a real server's boot, from its artifacts.
boot_server() {
	name=$1
	set -- $(awk -v n="$name" '$1 == n' "$PLAN/servers")
	ns=rs-$1 cidr=$2 ifname=$3 suppression=$4 mac=$5 vipdev=$6 cidr6=$7
	ip netns add "$ns"
	if [ "$BOOT_WITH" = seed ] && [ "$suppression" = sysctl ]; then
		# The switches' plausible mistake: the interface's arp_ignore set while all.arp_ignore
		# is 3, which the kernel takes over it (and which answers for a VIP on lo).
		in_ns "$ns" sh -c "echo 3 > /proc/sys/net/ipv4/conf/all/arp_ignore"
	fi
	# The platform's boot, from index.json: what runs before the network...
	if ! run_steps boot_before "$name" "$ns" >/tmp/load.err 2>&1; then
		if [ "$BOOT_WITH" = seed ] && grep -q "not as lvsdr wrote it" /tmp/load.err; then
			# vips load checks what it loaded: the seed's rule fails the rules' unit.
			ok "$name: loading the seed's rule fails the rules' unit: $(head -n 1 /tmp/load.err)"
		else
			fail "$name: its boot steps before the network failed: $(cat /tmp/load.err)"
		fi
	fi
	add_host "$ns" "$ifname" "$mac" "$cidr" "$cidr6"
	# ...and after it (or, in the ifcfg phase, ifup-aliases on its alias files).
	if [ "$BOOT_WITH" = seed ]; then
		# The seed's rule is loaded: the boot must refuse every VIP of the server. Then
		# the VIPs go up by hand, as a script that trusted the seed's rule would add them.
		if grep -q "^$name " "$PLAN/vips"; then
			if run_steps boot_after "$name" "$ns" >/dev/null 2>&1 || in_ns "$ns" ip -4 -o addr show | grep -q "/32 brd"; then
				fail "$name: its boot accepted the seed's rule and added a VIP"
			else
				ok "$name: its boot refuses its VIPs with only the seed's rule loaded"
			fi
		fi
		# That script sets no arp_announce either (the vips script does, as a second line).
		in_ns "$ns" sh -c "echo 0 > /proc/sys/net/ipv4/conf/$ifname/arp_announce"
		awk -v n="$name" '$1 == n { print $2, $3 }' "$PLAN/vips" | while read -r vip label; do
			if [ "${vip#*:}" != "$vip" ]; then
				in_ns "$ns" ip addr add "$vip/128" dev "$vipdev" nodad preferred_lft 0
			elif [ "$label" = - ]; then
				in_ns "$ns" ip addr add "$vip/32" brd "$vip" dev "$vipdev"
			else
				in_ns "$ns" ip addr add "$vip/32" brd "$vip" dev "$vipdev" label "$label"
			fi
		done
	elif [ "$BOOT_WITH" = ifcfg ] && awk -v n="$name" '$1 == n && $4 != "-" { found = 1 } END { exit !found }' "$PLAN/vips"; then
		# The whole boot but `vips up` (el6 restores its rules after the network; the
		# rc.local block's `vips load` sets the switches), then the VIPs from the alias
		# files, as ifup-aliases would bring them up on their device.
		grep -v " /usr/libexec/lvsdr/vips up$" "$PLAN/boot_after" >/tmp/boot_after.rules
		PLAN_STEPS=/tmp/boot_after.rules run_steps boot_after "$name" "$ns" >/tmp/load.err 2>&1 ||
			fail "$name: its boot steps after the network failed: $(cat /tmp/load.err)"
		awk -v n="$name" '$1 == n { print $4 }' "$PLAN/vips" | while read -r alias; do
			sh /check/ifup-aliases.sh "$ns" "$vipdev" "$cidr" "$TREE/$alias"
		done
	else
		run_steps boot_after "$name" "$ns" >/tmp/block.out 2>&1 || fail "$name: its boot steps after the network failed: $(cat /tmp/block.out)"
	fi
	start_listeners "$name" "$ns"
}

# start_listeners NAME NS: the server answers its own name on each service's VIP and port.
start_listeners() {
	awk -v n="$1" '$5 == n { print $2, $3, ($4 == 0 ? 7777 : $4) }' "$PLAN/members" | sort -u | while read -r vip proto port; do
		listen "$2" "$proto" "$vip" "$port" "$1"
	done
}

client_ip() { head -n 1 "$PLAN/client" | cut -d/ -f1; }
client6_ip() { head -n 1 "$PLAN/client6" | cut -d/ -f1; }

# kernel_arp_from_vips NAME: connections from each VIP make the kernel resolve the client
# (ARP for an IPv4 VIP, a Neighbour Solicitation for an IPv6 one).
kernel_arp_from_vips() {
	ns=rs-$1
	client=$(client_ip)
	client6=$(client6_ip)
	in_ns "$ns" ip neigh flush all 2>/dev/null
	awk -v n="$1" '$1 == n { print $2 }' "$PLAN/vips" | while read -r vip; do
		in_ns "$ns" ip neigh flush all 2>/dev/null
		case $vip in
		*:*) [ -z "$client6" ] || in_ns "$ns" socat -T 1 /dev/null "TCP6:[$client6]:9,bind=[$vip],connect-timeout=1" 2>/dev/null ;;
		*) in_ns "$ns" socat -T 1 /dev/null "TCP:$client:9,bind=$vip,connect-timeout=1" 2>/dev/null ;;
		esac
	done
}

# leak_report FILE: ARP from a real server's MAC with a VIP as sender, or a reply for a VIP.
leak_report() {
	awk -v servers="$PLAN/servers" -v vips="$PLAN/vips" '
		BEGIN {
			while ((getline line < servers) > 0) { split(line, f, " "); name[tolower(f[5])] = f[1] }
			while ((getline line < vips) > 0) { split(line, f, " "); vip[f[2]] = 1 }
		}
		{
			src = tolower($2)
			if (!(src in name)) next
			for (v in vip) {
				if (index($0, "tell " v ",") || $0 ~ ("tell " v "$") || index($0, "Reply " v " is-at")) {
					print "real server " name[src] " leaked VIP " v ": " $0
				}
			}
		}' "$1"
}

# nd_leak_report FILE: ICMPv6 from a real server's MAC that binds an IPv6 VIP to it: an
# advertisement of the VIP, a solicitation from the VIP, or a duplicate address probe for it.
nd_leak_report() {
	awk -v servers="$PLAN/servers" -v vips="$PLAN/vips" '
		BEGIN {
			while ((getline line < servers) > 0) { split(line, f, " "); name[tolower(f[5])] = f[1] }
			while ((getline line < vips) > 0) { split(line, f, " "); if (f[2] ~ /:/) vip[f[2]] = 1 }
		}
		{
			src = tolower($2)
			if (!(src in name)) next
			# "... length 86: SOURCE > DESTINATION: ICMP6, ..."; no IPv6 text holds ": ".
			k = index($0, ": ")
			split(substr($0, k + 2), w, " ")
			for (v in vip) {
				if (index($0, "neighbor advertisement, tgt is " v ",") ||
					(index($0, "neighbor solicitation") && (w[1] == v || (w[1] == "::" && index($0, "who has " v ","))))) {
					print "real server " name[src] " leaked VIP " v ": " $0
				}
			}
		}' "$1"
}

# check_no_leak WHEN FILE: ARP in FILE (/tmp/arp-NAME), ICMPv6 in /tmp/nd-NAME.
check_no_leak() {
	nd=$(echo "$2" | sed 's#/arp-#/nd-#')
	leaks=$( (leak_report "$2"; [ ! -f "$nd" ] || nd_leak_report "$nd") )
	if [ -n "$leaks" ]; then
		fail "no ARP or ND leaks the VIP $1: $(echo "$leaks" | head -n 3 | tr '\n' ';')"
	else
		ok "no ARP or ND leaks the VIP $1 ($(grep -c . "$2") ARP and $(grep -c . "$nd" 2>/dev/null || echo 0) ICMPv6 packets seen on the segment)"
	fi
}

setup_segment() {
	ip link add br0 type bridge
	ip link set br0 up
	capture_start boot
	# Directors: the first is active and owns the VIPs, brought up with the labels its
	# keepalived.conf (virtual_ipaddress) or lvs.cf (address = <vip> <label>) gives them.
	first=1
	while read -r name cidr ifname mac ipvsadm_file cidr6; do
		add_host "dir-$name" "$ifname" "$mac" "$cidr" "$cidr6"
		# DIRECTORS_BY=keepalived: their own keepalived brings the VIPs and the table.
		if [ $first = 1 ] && [ "${DIRECTORS_BY:-}" != keepalived ]; then
			active=$name active_if=$ifname active_mac=$mac active_ipvsadm=$TREE/$ipvsadm_file
			grep "^$name " "$PLAN/director_vips" | while read -r _ vip label; do
				if [ "${vip#*:}" != "$vip" ]; then
					ip -n "dir-$name" addr add "$vip/128" dev "$ifname" nodad
				elif [ "$label" = - ]; then
					ip -n "dir-$name" addr add "$vip/32" dev "$ifname"
				else
					ip -n "dir-$name" addr add "$vip/32" dev "$ifname" label "$label"
				fi
			done
			first=0
		fi
	done <"$PLAN/directors"
	add_host client eth0 02:00:00:00:02:01 "$(head -n 1 "$PLAN/client")" "$(head -n 1 "$PLAN/client6")"
	# A VIP off the segment's subnet reaches the director through the site's router;
	# here the client routes it to the active director directly.
	active_ip=$(awk 'NR == 1 { split($2, a, "/"); print a[1] }' "$PLAN/directors")
	# (An IPv6 VIP is on the segment's prefix.)
	cut -d' ' -f2 "$PLAN/services" | grep -v : | sort -u | while read -r vip; do
		ip -n client route get "$vip" 2>/dev/null | grep -q " dev eth0 " && ! ip -n client route get "$vip" | grep -q " via " ||
			ip -n client route add "$vip/32" via "$active_ip" dev eth0 2>/dev/null
	done
	[ "${DIRECTORS_BY:-}" = keepalived ] || load_ipvs
}

ipvs_flag() { [ "$1" = tcp ] && echo -t || echo -u; }

# load_ipvs: the active director's IPVS table from its compiled etc/sysconfig/ipvsadm,
# as the ipvsadm service loads it at boot; ipvsadm-save -n must then print the same
# lines (the kernel lists services and real servers in its own order, so as a set).
load_ipvs() {
	if ! in_ns "dir-$active" ipvsadm-restore <"$active_ipvsadm" >/tmp/restore.err 2>&1; then
		fail "director $active: ipvsadm-restore rejected its compiled ipvsadm file: $(cat /tmp/restore.err)"
		return
	fi
	in_ns "dir-$active" ipvsadm-save -n | sort >/tmp/ipvs-live
	sort "$active_ipvsadm" >/tmp/ipvs-file
	if cmp -s /tmp/ipvs-live /tmp/ipvs-file; then
		ok "director $active: ipvsadm-restore loaded its compiled ipvsadm file; ipvsadm-save -n prints the same $(grep -c '^-A' /tmp/ipvs-file) service(s), $(grep -c '^-a' /tmp/ipvs-file) real server(s)"
	else
		fail "director $active: ipvsadm-save -n differs from the compiled file: $(diff /tmp/ipvs-file /tmp/ipvs-live | grep '^[-+][-]' | tr '\n' ' ')"
	fi
}

boot_all() {
	cut -d' ' -f1 "$PLAN/servers" | while read -r name; do boot_server "$name"; done
}

teardown() {
	for ns in $(ip netns list | cut -d' ' -f1); do remove_host "$ns"; done
	ip link del br0 2>/dev/null
	kill "$capture_pid" "$capture6_pid" 2>/dev/null
	# The vips scripts' state (lvsdr_run_step keeps it per namespace) goes with the hosts.
	rm -f /tmp/lvsdr-state-*
}

check_arp_owner() {
	cut -d' ' -f2 "$PLAN/services" | grep -v : | sort -u | while read -r vip; do
		macs=$(in_ns client arping -c 2 -w 3 -I eth0 "$vip" 2>&1 | sed -n 's/.*reply from [0-9.]* \[\([0-9a-fA-F:]*\)\].*/\1/p' | tr 'A-F' 'a-f' | sort -u | tr '\n' ' ')
		if [ "$macs" = "$active_mac " ]; then
			ok "ARP for VIP $vip is answered by the active director $active ($active_mac) only"
		else
			fail "ARP for VIP $vip answered by [${macs% }], expected the active director $active ($active_mac) only"
		fi
	done
	# IPv6: the client solicits each VIP; only the active director may advertise it.
	cut -d' ' -f2 "$PLAN/services" | grep : | sort -u | while read -r vip; do
		rm -f /tmp/na.err
		in_ns client tcpdump -l -n -e -i eth0 icmp6 >/tmp/na.txt 2>/tmp/na.err &
		na=$!
		i=0
		while ! grep -q listening /tmp/na.err 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		ip -n client -6 neigh flush all
		in_ns client socat -T 1 /dev/null "TCP6:[$vip]:9,connect-timeout=1" 2>/dev/null
		sleep 0.5
		kill "$na" 2>/dev/null
		wait "$na" 2>/dev/null
		# The Ethernet source of each advertisement of the VIP (tcpdump -e: "TIME MAC > MAC, ...").
		macs=$(sed -n "s/^[^ ]* \([0-9a-fA-F:]\{17\}\) > .*neighbor advertisement, tgt is $vip,.*/\1/p" /tmp/na.txt | tr 'A-F' 'a-f' | sort -u | tr '\n' ' ')
		if [ "$macs" = "$active_mac " ]; then
			ok "Neighbour Discovery for VIP $vip is answered by the active director $active ($active_mac) only"
		else
			fail "Neighbour Discovery for VIP $vip answered by [${macs% }], expected the active director $active ($active_mac) only"
			# The evidence: the advertisements, and every namespace's addresses of the VIP.
			grep "tgt is $vip," /tmp/na.txt | sed 's/^/    /'
			for ns in $(ip netns list | cut -d' ' -f1); do
				ip -n "$ns" -6 -o addr show | grep -F " $vip/" | sed "s/^/    $ns: /"
			done
		fi
	done
}

spare=1
# request VIP PROTO PORT: one request from a fresh client address (of the VIP's family);
# prints the server's answer.
request() {
	spare=$((spare + 1))
	case $1 in
	*:*)
		src=$(sed -n "${spare}p" "$PLAN/client6")
		ip -n client addr add "$src/128" dev eth0 nodad
		if [ "$2" = tcp ]; then
			in_ns client socat -T 3 - "TCP6:[$1]:$3,bind=[$src],connect-timeout=3" </dev/null 2>/dev/null
		else
			echo ping | in_ns client socat -T 3 - "UDP6:[$1]:$3,bind=[$src]" 2>/dev/null
		fi
		return
		;;
	esac
	src=$(sed -n "${spare}p" "$PLAN/client")
	ip -n client addr add "$src/32" dev eth0
	if [ "$2" = tcp ]; then
		in_ns client socat -T 3 - "TCP:$1:$3,bind=$src,connect-timeout=3" </dev/null 2>/dev/null
	else
		echo ping | in_ns client socat -T 3 - "UDP:$1:$3,bind=$src" 2>/dev/null
	fi
}

check_services() {
	in_ns client tcpdump -l -n -e -i eth0 "(ip or ip6) and not arp and not icmp6" >/tmp/client.pcap.txt 2>/dev/null &
	client_capture=$!
	sleep 1
	while read -r svc vip proto port sched persistence; do
		flag=$(ipvs_flag "$proto")
		test_port=$port
		[ "$port" = 0 ] && test_port=7777
		awk -v s="$svc" '$1 == s' "$PLAN/members" >/tmp/members
		while read -r _ _ _ _ server rip weight; do
			if [ "$weight" -eq 0 ]; then
				info "$svc: real server $server has weight 0 (quiesced), not expected to get new connections"
				continue
			fi
			# Leave only this server in the service, so that the answer must come from it.
			while read -r _ _ _ _ other orip oweight; do
				[ "$other" = "$server" ] && continue
				t=$(endpoint "$orip" "$port"); [ "$port" != 0 ] || t=${t%:0}
				in_ns "dir-$active" ipvsadm -d "$flag" "$(endpoint "$vip" "$port")" -r "$t"
			done </tmp/members
			answer=$(request "$vip" "$proto" "$test_port")
			if [ "$answer" = "$server" ]; then
				ok "$svc ($proto $vip:$port): a client request through the VIP reaches real server $server"
			else
				fail "$svc ($proto $vip:$test_port): a request for real server $server got '${answer}'"
			fi
			while read -r _ _ _ _ other orip oweight; do
				[ "$other" = "$server" ] && continue
				t=$(endpoint "$orip" "$port"); [ "$port" != 0 ] || t=${t%:0}
				in_ns "dir-$active" ipvsadm -a "$flag" "$(endpoint "$vip" "$port")" -r "$t" -g -w "$oweight"
			done </tmp/members
		done </tmp/members
	done <"$PLAN/services"
	sleep 0.5
	kill "$client_capture" 2>/dev/null
	wait "$client_capture" 2>/dev/null
	# Replies from a VIP must come straight from a real server's MAC, never the director's.
	vips=$(cut -d' ' -f2 "$PLAN/services" | sort -u | tr '\n' ' ')
	via_director=0 direct=0
	for vip in $vips; do
		n=$(grep -c "^[^ ]* $active_mac > .* $vip\.[0-9]* > " /tmp/client.pcap.txt)
		m=$(grep "^[^ ]* 02:00:00:00:01:[0-9a-f]* > .* $vip\.[0-9]* > " /tmp/client.pcap.txt | grep -c .)
		via_director=$((via_director + n)) direct=$((direct + m))
	done
	if [ "$via_director" = 0 ] && [ "$direct" -gt 0 ]; then
		ok "replies come back directly: $direct packet(s) from the VIPs reached the client from real servers' MACs, none through the director"
	else
		fail "replies: $via_director packet(s) from a VIP came from the director's MAC, $direct from real servers"
	fi
	info "director $active IPVS totals (hex): $(in_ns "dir-$active" cat /proc/net/ip_vs_stats | sed -n 3p)"
}

check_ifcfg_equivalence() {
	# After an ifcfg boot, each VIP must look exactly as the rc.local block makes it.
	while read -r name vip label alias; do
		[ "$alias" = - ] && continue
		vipdev=$(server_field "$name" 6)
		got=$(in_ns "rs-$name" ip -4 -o addr show dev "$vipdev" | grep " inet $vip/" | sed 's/.* inet \([^ ]*\) brd \([^ ]*\) scope \([^ ]*\) \([^ \\]*\).*/\1 brd \2 scope \3 \4/')
		if [ "$got" = "$vip/32 brd $vip scope global $label" ]; then
			ok "$name: ifcfg alias $label applied as ifup-aliases does gives $vip/32 brd $vip, as the vips script does"
		else
			fail "$name: ifcfg alias $label applied as ifup-aliases does gives '$got', expected '$vip/32 brd $vip scope global $label'"
		fi
	done <"$PLAN/vips"
}

# reboot_all: every real server's namespace torn down and booted again from its artifacts.
# reboot_all [ifcfg]: with "ifcfg", only the servers that have ifcfg alias files
# (initscripts hosts); the others would boot exactly as in the reboot before.
reboot_all() {
	if [ "${1:-}" = ifcfg ]; then
		awk '$4 != "-" { print $1 }' "$PLAN/vips" | sort -u
	else
		cut -d' ' -f1 "$PLAN/servers"
	fi | while read -r name; do
		remove_host "rs-$name"
		boot_server "$name"
		kernel_arp_from_vips "$name"
	done
}

run_real() {
	PLAN=$1/real TREE=$1/real/tree PHASE_LABEL="" BOOT_WITH=rclocal spare=1
	info "cluster $(cat "$PLAN/cluster"): $(grep -c . "$PLAN/servers") real server(s), $(grep -c . "$PLAN/services") service(s)"
	setup_segment
	boot_all
	sleep 1
	capture_stop
	check_no_leak "while the real servers boot" /tmp/arp-boot

	capture_start traffic
	check_arp_owner
	check_services
	cut -d' ' -f1 "$PLAN/servers" | while read -r name; do kernel_arp_from_vips "$name"; done
	capture_stop
	check_no_leak "under traffic" /tmp/arp-traffic
	# The kernel did send ARP from each real server with a VIP: with the VIP rewritten; and a
	# solicitation for the client from each with an IPv6 VIP: never from the VIP (above).
	while read -r name cidr ifname suppression mac vipdev cidr6; do
		if grep -q "^$name [^ ]*:" "$PLAN/vips"; then
			sources=$(grep -i "^[^ ]* $mac > .*neighbor solicitation, who has $(client6_ip)," /tmp/nd-traffic | sed 's/.*length [0-9]*: \([^ ]*\) > .*/\1/' | sort -u | tr '\n' ' ')
			if [ -n "$sources" ]; then
				ok "$name: kernel solicitations sent for a packet from an IPv6 VIP went out from ${sources% }"
			else
				fail "$name: no kernel solicitation for the client seen: the ND leak check saw nothing to judge"
			fi
		fi
		grep -q "^$name [0-9.]* " "$PLAN/vips" || continue
		rip=${cidr%/*}
		if grep -i "^[^ ]* $mac > " /tmp/arp-traffic | grep -q "tell $rip,"; then
			ok "$name: kernel ARP sent from a VIP went out with the real IP $rip as sender"
		else
			fail "$name: no kernel ARP with sender $rip seen: the leak check saw nothing to judge"
		fi
	done <"$PLAN/servers"

	capture_start rerun
	while read -r name cidr ifname suppression mac rest; do
		before=$(in_ns "rs-$name" ip -o addr show)
		run_steps apply "$name" "rs-$name" >/tmp/apply.err 2>&1 || fail "$name: index.json's apply steps failed: $(cat /tmp/apply.err)"
		after=$(in_ns "rs-$name" ip -o addr show)
		[ "$before" = "$after" ] && ok "$name: applying its tree again (index.json's apply steps) changes nothing" ||
			fail "$name: applying its tree again changed the addresses"
		kernel_arp_from_vips "$name"
	done <"$PLAN/servers"
	capture_stop
	check_no_leak "on a re-run of the boot artifacts" /tmp/arp-rerun

	capture_start reboot
	reboot_all
	capture_stop
	check_no_leak "across a simulated reboot" /tmp/arp-reboot

	capture_start ifcfg
	BOOT_WITH=ifcfg
	reboot_all ifcfg
	capture_stop
	check_ifcfg_equivalence
	check_no_leak "when the VIPs come up from the ifcfg alias files" /tmp/arp-ifcfg
	teardown
}

run_control() {
	PLAN=$1/control TREE=$1/control/tree PHASE_LABEL="control: " BOOT_WITH=seed
	info "control: the same cluster with the seed document's OUT rule (-d <vip>; nftables: arp daddr ip), $(cat "$PLAN/changed") file(s) changed"
	setup_segment
	boot_all
	capture_stop
	capture_start control
	cut -d' ' -f1 "$PLAN/servers" | while read -r name; do kernel_arp_from_vips "$name"; done
	check_arp_owner >/dev/null
	capture_stop
	leaks=$(cat /tmp/arp-boot /tmp/arp-control | leak_report /dev/stdin)
	nd_leaks=$(cat /tmp/nd-boot /tmp/nd-control | nd_leak_report /dev/stdin)
	if [ -n "$leaks" ]; then
		ok "the leak check fails on the seed's rule, as expected: $(echo "$leaks" | head -n 1)"
	else
		fail "the leak check passed with the seed's rule: it cannot tell a leaking cluster from a sound one"
	fi
	# A server with an IPv6 VIP whose dialect's seed form leaks Neighbour Discovery (the
	# library says which): the kernel's solicitation from the VIP must be seen.
	if awk -v leaky="$(lvsdr_seed_nd_dialects)" 'BEGIN { n = split(leaky, d, " "); for (i = 1; i <= n; i++) seed[d[i]] = 1 }
		NR == FNR { if ($4 in seed) nd[$1] = 1; next } ($1 in nd) && $2 ~ /:/ { found = 1 } END { exit !found }' \
		"$PLAN/servers" "$PLAN/vips"; then
		if [ -n "$nd_leaks" ]; then
			ok "the ND leak check fails on the seed's form of the IPv6 rule, as expected: $(echo "$nd_leaks" | head -n 1)"
		else
			fail "the ND leak check passed with the seed's form of the IPv6 rule: it cannot tell a leaking cluster from a sound one"
		fi
	fi
	teardown
}

# ka_pids NAME: the process ids of director NAME's keepalived (parent, VRRP and checker).
ka_pids() { cat "/tmp/ka-$1.pid" "/tmp/ka-$1.vrrp.pid" "/tmp/ka-$1.check.pid" 2>/dev/null; }

# vip_on NAME VIP: VIP is an address of director NAME.
vip_on() { in_ns "dir-$1" ip -o addr show | grep -q " inet6\{0,1\} $2/"; }

# run_keepalived CASE: the directors run their own compiled keepalived.conf with the real
# keepalived: VRRP elects the first as master, which brings the VIPs up; every director's
# checkers program its IPVS table; then the master dies and the backup takes over.
run_keepalived() {
	PLAN=$1/real TREE=$1/real/tree PHASE_LABEL="keepalived: " BOOT_WITH=rclocal spare=1
	master=$(head -n 1 "$PLAN/directors" | cut -d' ' -f1)
	[ -f "$TREE/$master/etc/keepalived/keepalived.conf" ] || return 0
	[ "$(grep -c . "$PLAN/directors")" -ge 2 ] || return 0
	info "keepalived: cluster $(cat "$PLAN/cluster"): the directors run keepalived $(keepalived -v 2>&1 | head -n 1 | cut -d' ' -f2)"
	DIRECTORS_BY=keepalived setup_segment
	boot_all
	# The checkers connect to each real server's own address: a service listens there too.
	while read -r _ _ proto port server rip _; do
		[ "$proto" = tcp ] && [ "$port" != 0 ] && listen "rs-$server" tcp "$rip" "$port" "$server"
	done <"$PLAN/members"
	while read -r name _; do
		in_ns "dir-$name" keepalived -n -l -D -f "$TREE/$name/etc/keepalived/keepalived.conf" \
			-p "/tmp/ka-$name.pid" -r "/tmp/ka-$name.vrrp.pid" -c "/tmp/ka-$name.check.pid" >"/tmp/ka-$name.log" 2>&1 &
	done <"$PLAN/directors"
	vip=$(awk '$3 == "tcp" && $4 != 0 { print $2; exit }' "$PLAN/services")
	port=$(awk '$3 == "tcp" && $4 != 0 { print $4; exit }' "$PLAN/services")
	i=0
	while ! vip_on "$master" "$vip" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if vip_on "$master" "$vip"; then
		ok "the first director $master became VRRP master and brought up the VIPs $(awk -v n="$master" '$1 == n { printf "%s ", $2 }' "$PLAN/director_vips")in $((i / 10)).$((i % 10)) s"
	else
		fail "the first director $master did not bring up VIP $vip in 10 s: $(tail -n 5 "/tmp/ka-$master.log" | tr '\n' ' ')"
	fi
	# Every VIP, the IPv6 ones too: their own VRRP instance (version 3), in the sync group.
	i=0
	while :; do
		missing=$(awk -v n="$master" '$1 == n { print $2 }' "$PLAN/director_vips" | while read -r v; do vip_on "$master" "$v" || echo "$v"; done)
		[ -n "$missing" ] && [ $i -lt 50 ] || break
		sleep 0.2
		i=$((i + 1))
	done
	if [ -z "$missing" ]; then
		ok "the master $master holds every VIP of its keepalived.conf ($(grep -c "^$master [^ ]*:" "$PLAN/director_vips") of them IPv6)"
	else
		fail "the master $master lacks VIP(s) $(echo $missing): $(tail -n 5 "/tmp/ka-$master.log" | tr '\n' ' ')"
	fi
	# Each director's checkers program its own table: equal to the compiled ipvsadm file.
	sort "$TREE/$(head -n 1 "$PLAN/directors" | cut -d' ' -f5)" >/tmp/ipvs-file
	while read -r name _; do
		i=0
		while ! in_ns "dir-$name" ipvsadm-save -n | sort | cmp -s - /tmp/ipvs-file && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
		if in_ns "dir-$name" ipvsadm-save -n | sort | cmp -s - /tmp/ipvs-file; then
			ok "director $name: keepalived programmed IPVS exactly as the compiled ipvsadm file says"
		else
			fail "director $name: keepalived's IPVS table differs from the compiled file: $(in_ns "dir-$name" ipvsadm-save -n | sort | diff /tmp/ipvs-file - | grep '^[-+][-]' | tr '\n' ' ')"
		fi
	done <"$PLAN/directors"
	active=$master active_mac=$(head -n 1 "$PLAN/directors" | cut -d' ' -f4)
	check_arp_owner
	# The master dies: its keepalived killed, its link down. Requests every 0.1 s meanwhile.
	: >/tmp/ka-requests
	(
		end=$(($(date +%s) + 12))
		while [ "$(date +%s)" -lt $end ]; do
			answer=$(in_ns client socat -T 1 -t 0.1 - "TCP:$vip:$port,connect-timeout=1" </dev/null 2>/dev/null)
			# The time since boot in hundredths of a second, then the outcome.
			t=$(cut -d' ' -f1 /proc/uptime | tr -d .)
			if [ -n "$answer" ]; then echo "$t ok"; else echo "$t fail"; fi
			sleep 0.1
		done >/tmp/ka-requests
	) &
	requests=$!
	sleep 2
	kill -9 $(ka_pids "$master") 2>/dev/null
	in_ns "dir-$master" ip link set "$(head -n 1 "$PLAN/directors" | cut -d' ' -f3)" down
	wait "$requests"
	second=$(sed -n 2p "$PLAN/directors" | cut -d' ' -f1)
	lost=$(grep -c fail /tmp/ka-requests)
	# The gap: from the last answered request before the first failure to the first after it.
	gap=$(awk '$2 == "ok" && !f { last = $1 } $2 == "fail" { f = 1 } f && $2 == "ok" { printf "%d.%02d", ($1 - last) / 100, ($1 - last) % 100; exit }' /tmp/ka-requests)
	if vip_on "$second" "$vip" && [ -n "$gap" ] && [ "$(tail -n 1 /tmp/ka-requests | cut -d' ' -f2)" = ok ]; then
		ok "the master died: $second took the VIPs and requests through the VIP resumed after a gap of $gap s ($lost of $(grep -c . /tmp/ka-requests) requests, one every 0.1 s, failed)"
	else
		fail "after the master died: VIP on $second: $(vip_on "$second" "$vip" && echo yes || echo no), requests: $(tr '\n' ' ' </tmp/ka-requests | cut -c1-300)"
	fi
	active=$second active_mac=$(sed -n 2p "$PLAN/directors" | cut -d' ' -f4)
	check_arp_owner
	# The IPv6 VIPs moved with the IPv4 ones: a request through one is answered.
	vip6=$(awk '$2 ~ /:/ && $3 == "tcp" && $4 != 0 { print $2; exit }' "$PLAN/services")
	port6=$(awk '$2 ~ /:/ && $3 == "tcp" && $4 != 0 { print $4; exit }' "$PLAN/services")
	if [ -n "$vip6" ]; then
		answer=$(in_ns client socat -T 2 - "TCP6:[$vip6]:$port6,connect-timeout=2" </dev/null 2>/dev/null)
		if vip_on "$second" "$vip6" && [ -n "$answer" ]; then
			ok "the IPv6 VIP $vip6 moved to $second with the IPv4 ones; a request through it was answered by $answer"
		else
			fail "after the master died: IPv6 VIP $vip6 on $second: $(vip_on "$second" "$vip6" && echo yes || echo no), answer '$answer'"
		fi
	fi
	while read -r name _; do kill $(ka_pids "$name") 2>/dev/null; done <"$PLAN/directors"
	sleep 1
	teardown
}

for case in /check/trees/*; do
	run_real "$case"
	run_keepalived "$case"
	run_control "$case"
done
