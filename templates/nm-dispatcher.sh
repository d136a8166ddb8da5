#!/bin/sh
{% include "_header.txt" %}
# NetworkManager runs this with INTERFACE ACTION after it changes an interface. Activating
# a connection, or reapplying one, can remove addresses NetworkManager did not configure,
# the VIPs among them: bring them back (vips repair: while the VIPs are meant to be up,
# since the last vips up and until vips down), each only behind its ARP suppression
# (before NetworkManager 1.42 a reapply fires no event: lvsdr-guard.service repairs it).
# The VIPs never come from NetworkManager itself, which would announce them by ARP.
[ "$1" = {{ server.interface }} ] || exit 0
case $2 in
up | reapply | dhcp4-change) exec /usr/libexec/lvsdr/vips repair ;;
*) ;;
esac
exit 0
