# The {{ dialect }} dialect's part of this script: lvsdr's rules are one DROP rule in
# {% for c in input_chains %}{% if !loop.first %} or {% endif %}{{ c }}{% endfor %} and one mangle rule in {% for c in output_chains %}{% if !loop.first %} or {% endif %}{{ c }}{% endfor %} per VIP, among whatever other rules the host has.
# The switches this dialect sets: arp_announce, behind the output rule (see lvsdr_switches).
LVSDR_SWITCHES=arp_announce
# Whether a VIP has rules of its own (a retired VIP is remembered until they are gone): each VIP has its own two rules.
LVSDR_RULES_PER_VIP=yes
LVSDR_TOOL=arptables
# Ticks of 0.2 s between two checks: arptables has no change events, so a foreign flush
# is found by polling every 0.8 s.
LVSDR_POLL_TICKS=4

lvsdr_rules_listing() {
	arptables -n -L 2>/dev/null
}

# lvsdr_protected_in VIPS: reads lvsdr_rules_listing's output; prints each of VIPS whose
# two rules are loaded: in chain {% for c in input_chains %}{% if !loop.first %} or {% endif %}{{ c }}{% endfor %}, exactly "-j DROP -d VIP" (ARP asking for the
# VIP is dropped); in chain {% for c in output_chains %}{% if !loop.first %} or {% endif %}{{ c }}{% endfor %}, exactly "-j mangle -s VIP --mangle-ip-s {{ real_ip }}"
# (ARP sent from the VIP carries the real IP). Tolerant of layout (options in any order,
# target first or last, a rule number in front, /32 or a full mask, any spacing, the
# default --h-length 6 --h-type 1 that arptables-nft up to 1.8.2 prints) and
# strict of meaning: a rule with any other condition (an interface, a hardware address),
# or the seed document's "-d VIP" in the output chain, does not count.
lvsdr_protected_in() {
	awk -v ours="$1" -v real={{ real_ip }} -v inputs="{{ input_chains|join(" ") }}" -v outputs="{{ output_chains|join(" ") }}" '
		function address(a) { sub(/\/(32|255\.255\.255\.255)$/, "", a); return a }
		BEGIN {
			split(inputs, t, " "); for (i in t) input[t[i]] = 1
			split(outputs, t, " "); for (i in t) output[t[i]] = 1
		}
		$1 == "Chain" { chain = $2; next }
		NF == 0 { next }
		{
			split("", opt); other = 0
			first = ($1 ~ /^[0-9]+$/) ? 2 : 1
			for (i = first; i <= NF; i++) {
				if ($i !~ /^-/ || i == NF) { other = 1; break }
				if ($i in opt) { other = 1; break }
				opt[$i] = $(i + 1)
				i++
			}
			if (other) next
			# What arptables-nft up to 1.8.2 prints of the defaults is no condition.
			# (Tested with "in": reading opt[k] would create k.)
			if (("--h-length" in opt) && opt["--h-length"] == "6") delete opt["--h-length"]
			if (("--h-type" in opt) && (opt["--h-type"] == "1" || opt["--h-type"] == "0x1" || opt["--h-type"] == "Ethernet")) delete opt["--h-type"]
			for (k in opt) if (k != "-j" && k != "-s" && k != "-d" && k != "--mangle-ip-s") other = 1
			if (other) next
		}
		(chain in input) && ("-j" in opt) && opt["-j"] == "DROP" && ("-d" in opt) && !("-s" in opt) && !("--mangle-ip-s" in opt) { dropped[address(opt["-d"])] = 1 }
		(chain in output) && ("-j" in opt) && opt["-j"] == "mangle" && ("-s" in opt) && !("-d" in opt) && ("--mangle-ip-s" in opt) && address(opt["--mangle-ip-s"]) == real { rewritten[address(opt["-s"])] = 1 }
		END {
			n = split(ours, v, " ")
			for (i = 1; i <= n; i++) if ((v[i] in dropped) && (v[i] in rewritten)) print v[i]
		}'
}

# lvsdr_chains: "INPUT OUTPUT" as this host's arptables names the hooks ({{ input_chains|join("/") }}).
lvsdr_chains() {
	case $(arptables -n -L 2>/dev/null) in
	*"Chain {{ input_chains[0] }} "*) echo "{{ input_chains[0] }} {{ output_chains[0] }}" ;;
	*) echo "{{ input_chains[input_chains.len() - 1] }} {{ output_chains[output_chains.len() - 1] }}" ;;
	esac
}

# lvsdr_rules_load: adds the rules of every VIP of this tree that lacks them, then deletes
# lvsdr's rules of the VIPs an earlier tree had (taken down first by vips retire), rule by
# rule: the rules of VIPs that stay are never absent.
{%- if let Some(file) = restore %} When the host has no arptables rule at all
# (at boot, or after a flush) it restores {{ file }} instead, in one command.
{%- endif %}
lvsdr_rules_load() {
	lvsdr_have=$(lvsdr_rules_listing | lvsdr_protected_in "$LVSDR_VIPS") || return 1
{%- if let Some(file) = restore %}
	# Only when the host has no arptables rule at all: a restore flushes every chain.
	if [ -z "$lvsdr_have" ] && ! lvsdr_rules_listing | awk 'NF && $1 != "Chain" { found = 1 } END { exit !found }'; then
		arptables-restore <{{ file }}
		return
	fi
{%- endif %}
	set -- $(lvsdr_chains)
	lvsdr_rc=0
	for lvsdr_vip in $LVSDR_VIPS; do
		case " $(echo $lvsdr_have) " in *" $lvsdr_vip "*) continue ;; esac
		arptables -A "$1" -d "$lvsdr_vip" -j DROP &&
			arptables -A "$2" -s "$lvsdr_vip" -j mangle --mangle-ip-s {{ real_ip }} || lvsdr_rc=1
	done
	for lvsdr_vip in $(lvsdr_retired); do
		lvsdr_delete_rules "$1" "$2" "$lvsdr_vip" || lvsdr_rc=1
	done
	return $lvsdr_rc
}

# lvsdr_delete_rules INPUT OUTPUT VIP: lvsdr's two rules for VIP gone, every copy.
lvsdr_delete_rules() {
	lvsdr_n=0
	while arptables -D "$1" -d "$3" -j DROP 2>/dev/null && [ $lvsdr_n -lt 100 ]; do lvsdr_n=$((lvsdr_n + 1)); done
	lvsdr_n=0
	while arptables -D "$2" -s "$3" -j mangle --mangle-ip-s {{ real_ip }} 2>/dev/null && [ $lvsdr_n -lt 100 ]; do lvsdr_n=$((lvsdr_n + 1)); done
	return 0
}

# lvsdr_rules_unload: deletes lvsdr's rules (this tree's VIPs and an earlier tree's) and no other.
lvsdr_rules_unload() {
	set -- $(lvsdr_chains)
	for lvsdr_vip in $LVSDR_VIPS $(lvsdr_retired); do
		lvsdr_delete_rules "$1" "$2" "$lvsdr_vip"
	done
	[ -z "$(lvsdr_rules_listing | lvsdr_protected_in "$LVSDR_VIPS $(lvsdr_retired)")" ]
}

# lvsdr_rule_events: arptables reports no changes; the watch polls instead.
lvsdr_rule_events() {
	:
}

# lvsdr_rules_ready: the rules can be loaded at any time.
lvsdr_rules_ready() {
	return 0
}
