# The nftables dialect's part of this script: lvsdr's rules are table arp lvsdr (and
# table ip6 lvsdr for the IPv6 VIPs), loaded from {{ script }} in one transaction and
# deleted whole.
# The switches this dialect sets: arp_announce, behind the output rule (see lvsdr_switches).
LVSDR_SWITCHES=arp_announce
# Whether a VIP has rules of its own (a retired VIP is remembered until they are gone): each VIP has its own elements in lvsdr's rules.
LVSDR_RULES_PER_VIP=yes
LVSDR_TOOL=nft
# Ticks of 0.2 s between two repairs when nothing happened: nft monitor reports every
# change to the table at once, so the poll is only a backstop.
LVSDR_POLL_TICKS=25

lvsdr_rules_listing() {
	nft list table arp lvsdr 2>/dev/null
	nft list table ip6 lvsdr 2>/dev/null
}

# lvsdr_protected_in VIPS: reads lvsdr_rules_listing's output; prints each of VIPS whose
# own rules are loaded. An IPv4 VIP's two, in table arp lvsdr: in the chain on hook input,
# "<ARP header> arp daddr ip {..VIP..} drop"; in the chain on hook output, "<ARP header>
# arp saddr ip {..VIP..} arp saddr ip set {{ real_ip }}". An IPv6 VIP's four, in table ip6
# lvsdr, the target as nft lists it (one 128-bit hex number): on input, "icmpv6 type
# nd-neighbor-solicit @th,64,128 {..TARGET..} drop"; on output, the same for
# nd-neighbor-advert and for nd-neighbor-solicit, and "icmpv6 type nd-neighbor-solicit ip6
# saddr {..VIP..} ip6 saddr set {{ real_ip6 }}". nft 1.1 (RHEL 10) names the target field
# and lists it as "icmpv6 taddr {..VIP..}" instead: both forms count. A rule with more
# conditions, or the seed document's "arp daddr ip" in the output rule, does not count.
lvsdr_protected_in() {
	awk -v ours="$1" -v real={{ real_ip }} -v real6={{ real_ip6 }} '
		# The ARP header shape: hardware Ethernet, protocol IPv4, 6- and 4-byte addresses.
		function header() {
			return w[1] w[2] w[3] w[4] w[5] w[7] w[8] w[9] w[10] w[11] w[12] == "arphtype1arpptypearphlen6arpplen4" &&
				(w[6] == "ip" || w[6] == "0x0800") && w[13] == "arp" && w[15] == "ip"
		}
		# nd(TYPE): the rule starts "icmpv6 type TYPE", by name or number.
		function nd(type) {
			return w[1] w[2] == "icmpv6type" && (w[3] == type || w[3] == (type == "nd-neighbor-solicit" ? 135 : 136))
		}
		# note FIRST LAST SEEN RE: every word of w[FIRST..LAST] goes into SEEN, when all are
		# addresses (RE): a further condition between them makes the rule not count.
		function note(first, last, seen, re,    i) {
			if (first > last) return
			for (i = first; i <= last; i++) if (w[i] !~ re) return
			for (i = first; i <= last; i++) seen[w[i]] = 1
		}
		# note6 FIRST LAST SEEN: as note, for IPv6 addresses, each noted as its target().
		function note6(first, last, seen,    i) {
			if (first > last) return
			for (i = first; i <= last; i++) if (w[i] !~ v6) return
			for (i = first; i <= last; i++) seen[target(w[i])] = 1
		}
		# target(V): IPv6 text V as nft lists a 128-bit number: 0x, lowercase hex, no
		# leading zeros.
		function target(v,    g, t, n, m, i, k, half, hex, tail) {
			v = tolower(v)
			k = index(v, "::")
			if (k) { half = substr(v, 1, k - 1); tail = substr(v, k + 2) } else { half = v; tail = "" }
			n = (half == "") ? 0 : split(half, g, ":")
			hex = ""
			for (i = 1; i <= n; i++) hex = hex substr("0000", 1, 4 - length(g[i])) g[i]
			m = (tail == "") ? 0 : split(tail, t, ":")
			if (k) for (i = n + m; i < 8; i++) hex = hex "0000"
			for (i = 1; i <= m; i++) hex = hex substr("0000", 1, 4 - length(t[i])) t[i]
			sub(/^0+/, "", hex)
			return "0x" (hex == "" ? "0" : hex)
		}
		BEGIN { v4 = "^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$"; v6 = "^[0-9a-f:]*:[0-9a-f:]*$"; hex = "^0x[0-9a-f]+$" }
		$1 == "chain" { chain = $2; next }
		$1 == "type" { hook[chain] = $4; next }
		{
			# Set braces and the ", " between elements go; the commas of @th,64,128 stay.
			line = $0
			gsub(/[{}]/, " ", line)
			gsub(/, /, " ", line)
			n = split(line, w, " ")
		}
		hook[chain] == "input" && header() && w[14] == "daddr" && w[n] == "drop" { note(16, n - 1, dropped, v4) }
		hook[chain] == "output" && header() && w[14] == "saddr" && w[n - 4] w[n - 3] w[n - 2] w[n - 1] == "arpsaddripset" && w[n] == real { note(16, n - 5, rewritten, v4) }
		hook[chain] == "input" && nd("nd-neighbor-solicit") && w[4] == "@th,64,128" && w[n] == "drop" { note(5, n - 1, unsolicited, hex) }
		hook[chain] == "output" && nd("nd-neighbor-advert") && w[4] == "@th,64,128" && w[n] == "drop" { note(5, n - 1, unadvertised, hex) }
		hook[chain] == "output" && nd("nd-neighbor-solicit") && w[4] == "@th,64,128" && w[n] == "drop" { note(5, n - 1, unprobed, hex) }
		hook[chain] == "input" && nd("nd-neighbor-solicit") && w[4] w[5] == "icmpv6taddr" && w[n] == "drop" { note6(6, n - 1, unsolicited) }
		hook[chain] == "output" && nd("nd-neighbor-advert") && w[4] w[5] == "icmpv6taddr" && w[n] == "drop" { note6(6, n - 1, unadvertised) }
		hook[chain] == "output" && nd("nd-neighbor-solicit") && w[4] w[5] == "icmpv6taddr" && w[n] == "drop" { note6(6, n - 1, unprobed) }
		hook[chain] == "output" && nd("nd-neighbor-solicit") && w[4] w[5] == "ip6saddr" && w[n - 3] w[n - 2] w[n - 1] == "ip6saddrset" && w[n] == real6 { note(6, n - 4, rewritten, v6) }
		END {
			n = split(ours, v, " ")
			for (i = 1; i <= n; i++) {
				if (v[i] ~ /:/) {
					t = target(v[i])
					if ((t in unsolicited) && (t in unadvertised) && (t in unprobed) && (v[i] in rewritten)) print v[i]
				} else if ((v[i] in dropped) && (v[i] in rewritten)) print v[i]
			}
		}'
}

# lvsdr_rules_load: replaces lvsdr's tables in one transaction: the rules of VIPs that
# stay are never absent, and a copy of the table saved by someone else is replaced whole.
lvsdr_rules_load() {
	nft -f {{ script }}
}

# lvsdr_rules_unload: deletes lvsdr's tables and nothing else of the ruleset.
lvsdr_rules_unload() {
	if nft list table ip6 lvsdr >/dev/null 2>&1; then
		nft delete table ip6 lvsdr || return 1
	fi
	nft list table arp lvsdr >/dev/null 2>&1 || return 0
	nft delete table arp lvsdr
}

# lvsdr_rule_events: a line for every change to lvsdr's tables, a foreign flush included.
lvsdr_rule_events() {
	exec nft monitor 2>/dev/null
}

# lvsdr_rules_ready: the rules can be loaded at any time.
lvsdr_rules_ready() {
	return 0
}
