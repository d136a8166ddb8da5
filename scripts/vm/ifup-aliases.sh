# ifup-aliases.sh NS PARENT_IF PARENT_CIDR ALIAS_FILE: applies one ifcfg alias file as
# RHEL's ifup-aliases does (initscripts 9.73+), inside namespace NS.
#
# Modelled on the behaviour recorded in docs (domain.md): the alias inherits PREFIX,
# NETMASK, BROADCAST, ARPCHECK and ARPUPDATE from the parent ifcfg, its own keys win;
# unless ARPCHECK=no it runs duplicate address detection (arping -D) and refuses the
# address when someone answers; it adds IPADDR/PREFIX with BROADCAST and the DEVICE
# label; unless ARPUPDATE=no it announces the address (arping -A, then -U).
ns=$1 parent=$2 parent_cidr=$3 file=$4

# The parent's ifcfg: a typical static interface with a subnet prefix.
PREFIX=${parent_cidr#*/}
NETMASK=""
BROADCAST=""
ARPCHECK=""
ARPUPDATE=""
DEVICE="" IPADDR=""
. "$file"

if [ -z "$BROADCAST" ]; then
	BROADCAST=$(ipcalc -b "$IPADDR/$PREFIX" | cut -d= -f2)
fi
if [ "$ARPCHECK" != no ]; then
	if ip netns exec "$ns" arping -q -D -c 2 -w 3 -I "$parent" "$IPADDR"; then :; else
		echo "ifup-aliases: $IPADDR is already in use (duplicate address detection), not adding $DEVICE" >&2
		exit 1
	fi
fi
ip netns exec "$ns" ip addr add "$IPADDR/$PREFIX" brd "$BROADCAST" dev "$parent" label "$DEVICE"
if [ "$ARPUPDATE" != no ]; then
	ip netns exec "$ns" arping -q -A -c 1 -I "$parent" "$IPADDR"
	ip netns exec "$ns" arping -q -U -c 1 -I "$parent" "$IPADDR"
fi
