# lvsdr_protected VIP: exits 0 when lvsdr's own two rules for VIP are loaded in table
# arp lvsdr: in the chain on hook input, "<ARP header> arp daddr ip {..VIP..} drop"; in
# the chain on hook output, "<ARP header> arp saddr ip {..VIP..} arp saddr ip set {{ real_ip }}".
# A rule with more conditions, or the seed document's "arp daddr ip" in the output rule,
# does not count.
lvsdr_protected() {
	nft list table arp lvsdr 2>/dev/null | awk -v vip="$1" -v real={{ real_ip }} '
		# The ARP header shape: hardware Ethernet, protocol IPv4, 6- and 4-byte addresses.
		function header() {
			return w[1] w[2] w[3] w[4] w[5] w[7] w[8] w[9] w[10] w[11] w[12] == "arphtype1arpptypearphlen6arpplen4" &&
				(w[6] == "ip" || w[6] == "0x0800") && w[13] == "arp" && w[15] == "ip"
		}
		# listed FIRST LAST: VIP is among w[FIRST..LAST].
		function listed(first, last,    i) {
			for (i = first; i <= last; i++) if (w[i] == vip) return 1
			return 0
		}
		$1 == "chain" { chain = $2; next }
		$1 == "type" { hook[chain] = $4; next }
		{
			line = $0
			gsub(/[{},]/, " ", line)
			n = split(line, w, " ")
		}
		hook[chain] == "input" && header() && w[14] == "daddr" && w[n] == "drop" && listed(16, n - 1) { dropped = 1 }
		hook[chain] == "output" && header() && w[14] == "saddr" && w[n - 4] w[n - 3] w[n - 2] w[n - 1] == "arpsaddripset" && w[n] == real && listed(16, n - 5) { rewritten = 1 }
		END { exit !(dropped && rewritten) }'
}
