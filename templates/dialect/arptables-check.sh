# lvsdr_protected VIP: exits 0 when lvsdr's own two rules for VIP are loaded: in chain
# {{ input_chains|join(" or ") }}, exactly "-j DROP -d VIP" (ARP asking for the VIP is dropped); in
# chain {{ output_chains|join(" or ") }}, exactly "-j mangle -s VIP --mangle-ip-s {{ real_ip }}" (ARP sent
# from the VIP carries the real IP). A rule with more conditions, or the seed document's
# "-d VIP" in the output chain, does not count.
lvsdr_protected() {
	arptables -n -L 2>/dev/null | awk -v vip="$1" -v real={{ real_ip }} '
		function address(a) { sub(/\/(32|255\.255\.255\.255)$/, "", a); return a }
		$1 == "Chain" { chain = $2; next }
		{
			delete opt
			for (i = 1; i < NF; i += 2) opt[$i] = $(i + 1)
		}
		({% for c in input_chains %}{% if !loop.first %} || {% endif %}chain == "{{ c }}"{% endfor %}) && NF == 4 && opt["-j"] == "DROP" && address(opt["-d"]) == vip { dropped = 1 }
		({% for c in output_chains %}{% if !loop.first %} || {% endif %}chain == "{{ c }}"{% endfor %}) && NF == 6 && opt["-j"] == "mangle" && address(opt["-s"]) == vip && address(opt["--mangle-ip-s"]) == real { rewritten = 1 }
		END { exit !(dropped && rewritten) }'
}