# The nftables dialect's part of this script: lvsdr's rules are table arp lvsdr, loaded
# from {{ script }} in one transaction and deleted whole.
# The switches this dialect sets: arp_announce, behind the output rule (see lvsdr_switches).
LVSDR_SWITCHES=arp_announce
LVSDR_TOOL=nft
# Ticks of 0.2 s between two repairs when nothing happened: nft monitor reports every
# change to the table at once, so the poll is only a backstop.
LVSDR_POLL_TICKS=25

lvsdr_rules_listing() {
	nft list table arp lvsdr 2>/dev/null
}

# lvsdr_protected_in VIPS: reads lvsdr_rules_listing's output; prints each of VIPS whose
# two rules are loaded in table arp lvsdr: in the chain on hook input, "<ARP header> arp
# daddr ip {..VIP..} drop"; in the chain on hook output, "<ARP header> arp saddr ip {..VIP..}
# arp saddr ip set {{ real_ip }}". A rule with more conditions, or the seed document's
# "arp daddr ip" in the output rule, does not count.
lvsdr_protected_in() {
	awk -v ours="$1" -v real={{ real_ip }} '
		# The ARP header shape: hardware Ethernet, protocol IPv4, 6- and 4-byte addresses.
		function header() {
			return w[1] w[2] w[3] w[4] w[5] w[7] w[8] w[9] w[10] w[11] w[12] == "arphtype1arpptypearphlen6arpplen4" &&
				(w[6] == "ip" || w[6] == "0x0800") && w[13] == "arp" && w[15] == "ip"
		}
		# note FIRST LAST SEEN: every word of w[FIRST..LAST] goes into SEEN.
		function note(first, last, seen,    i) {
			for (i = first; i <= last; i++) seen[w[i]] = 1
		}
		$1 == "chain" { chain = $2; next }
		$1 == "type" { hook[chain] = $4; next }
		{
			line = $0
			gsub(/[{},]/, " ", line)
			n = split(line, w, " ")
		}
		hook[chain] == "input" && header() && w[14] == "daddr" && w[n] == "drop" { note(16, n - 1, dropped) }
		hook[chain] == "output" && header() && w[14] == "saddr" && w[n - 4] w[n - 3] w[n - 2] w[n - 1] == "arpsaddripset" && w[n] == real { note(16, n - 5, rewritten) }
		END {
			n = split(ours, v, " ")
			for (i = 1; i <= n; i++) if ((v[i] in dropped) && (v[i] in rewritten)) print v[i]
		}'
}

# lvsdr_rules_load: replaces table arp lvsdr in one transaction: the rules of VIPs that
# stay are never absent, and a copy of the table saved by someone else is replaced whole.
lvsdr_rules_load() {
	nft -f {{ script }}
}

# lvsdr_rules_unload: deletes table arp lvsdr and nothing else of the ruleset.
lvsdr_rules_unload() {
	nft list table arp lvsdr >/dev/null 2>&1 || return 0
	nft delete table arp lvsdr
}

# lvsdr_rule_events: a line for every change to table arp lvsdr, a foreign flush included.
lvsdr_rule_events() {
	exec nft monitor 2>/dev/null
}

# lvsdr_rules_ready: the rules can be loaded at any time.
lvsdr_rules_ready() {
	return 0
}
