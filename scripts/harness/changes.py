"""A change applied to a running real server by index.json's apply steps: no leak at any
moment, no connection lost to a VIP that stays, and the controls that fail.
"""

import ipaddress
import os
import subprocess
import time

from .netns import Capture, addresses, leaks, neighbour_address, pair, vips_up
from .platform import boot, host_root, nm_emulation, platform_lib, run_steps, vips_script
from .runner import CheckError, check

TRAFFIC = """
import socket, subprocess, sys, time
# Keeps the kernel sending ARP from every VIP while a change is applied: each round
# forgets the neighbour and connects from each VIP that is up.
vips, neighbour, until = sys.argv[1].split(","), sys.argv[2], time.time() + float(sys.argv[3])
while time.time() < until:
    subprocess.run(["ip", "neigh", "flush", "all"], capture_output=True)
    for vip in vips:
        s = socket.socket()
        s.settimeout(0.05)
        try:
            s.bind((vip, 0))
            s.connect_ex((neighbour, 9))
        except OSError:
            pass
        s.close()
    time.sleep(0.02)
"""


# On the real server: accepts TCP connections on port 7077 of any address (the VIPs).
LISTENER = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7077))
s.listen(128)
while True:
    c, _ = s.accept()
    c.close()
"""


# On the neighbour: a connection to each VIP given every 20 ms until killed, counted once
# every VIP has taken one (the listener starts with it); prints "tried failed" at the end.
CONNECTOR = """
import signal, socket, sys, time
vips, tried, failed, ready = sys.argv[1:], 0, 0, set()
def done(*_):
    print(tried, failed, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    for v in vips:
        s = socket.socket()
        s.settimeout(0.5)
        ok = s.connect_ex((v, 7077)) == 0
        s.close()
        if len(ready) == len(vips):
            tried += 1
            failed += not ok
        elif ok:
            ready.add(v)
    time.sleep(0.02)
"""


def change_checks(name, old_tree, new_tree, old_index, new_index, control_done):
    """A running real server moved from the old tree to the new one by the new tree's apply
    steps, with the kernel sending ARP from every VIP throughout and the neighbour asking
    for every VIP: no ARP may leak a VIP at any moment, and the VIPs end as the new tree says."""
    old_servers = {s["name"]: s for s in old_index["servers"]}
    for new in new_index["servers"]:
        old = old_servers.get(new["name"])
        if old is None or {v["address"] for v in old["vips"]} == {v["address"] for v in new["vips"]}:
            continue
        net = ipaddress.ip_interface(new["address"])
        every = sorted({v["address"] for v in old["vips"] + new["vips"]})
        neighbour = neighbour_address(net.network, {net.ip, *map(ipaddress.ip_address, every)})
        nm_emulation(new)
        label = (f"{name}: {new['name']} ({new['platform']}, {new['arp_suppression']}) moves from VIPs "
                 f"{', '.join(v['address'] for v in old['vips'])} to {', '.join(v['address'] for v in new['vips'])}")

        def change(old=old, new=new, net=net, every=every, neighbour=neighbour, wrong_order=False, outage=False):
            srv, nb = pair(new["interface"], new["address"], f"{neighbour}/{net.network.prefixlen}", configure=False)
            try:
                boot(srv, old_tree, old, new["interface"], new["address"])
                vips_up(srv, old, new["interface"])
                cap = Capture(nb)
                traffic = subprocess.Popen(["ip", "netns", "exec", srv.name, "python3", "-c", TRAFFIC, ",".join(every),
                                            str(neighbour), "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                asking = subprocess.Popen(["sh", "-c", 'for i in 1 2 3 4 5 6 7 8; do for v in "$@"; do '
                                           'ip netns exec "$0" arping -c 1 -w 0.2 -I nb0 "$v" >/dev/null 2>&1; done; done',
                                           nb.name, *every])
                # Connections to every VIP that stays, routed to the real IP as a director
                # routes them (direct routing), every 20 ms through the apply: none may fail.
                staying = sorted({v["address"] for v in old["vips"]} & {v["address"] for v in new["vips"]})
                listener = subprocess.Popen(["ip", "netns", "exec", srv.name, "python3", "-c", LISTENER],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                for v in staying:
                    nb("ip", "route", "add", f"{v}/32", "via", str(net.ip))
                connecting = subprocess.Popen(["ip", "netns", "exec", nb.name, "python3", "-c", CONNECTOR, *staying],
                                              stdout=subprocess.PIPE, text=True, start_new_session=True)
                time.sleep(1)
                if wrong_order:
                    # The new rules first, loaded straight with the dialect's tool, then (a second
                    # later) the VIPs: what a handler that ignores the apply steps does.
                    # With arp_announce off too (the vips script sets it as a second line), as on
                    # a host where something reset it: the rules alone decide.
                    srv("sh", "-c", f"echo 0 > /proc/sys/net/ipv4/conf/{new['interface']}/arp_announce")
                    platform_lib("lvsdr_naive_load", str(host_root(new_tree, new)), srv.name, new["arp_suppression"])
                    time.sleep(1.5)
                    vips_script(srv, new_tree, new, "up")
                elif outage:
                    # What an apply did before it was hitless: every VIP down for the reload.
                    vips_script(srv, new_tree, new, "down")
                    time.sleep(0.3)
                    run_steps(srv, new_tree, new, "apply", check=False)
                else:
                    # Every 10 ms during the apply, the addresses: a VIP that stays must be in each.
                    sampler = subprocess.Popen(["ip", "netns", "exec", srv.name, "sh", "-c",
                                                "while :; do ip -4 -o addr show; echo --; sleep 0.01; done"],
                                               stdout=subprocess.PIPE, text=True, start_new_session=True)
                    res = run_steps(srv, new_tree, new, "apply", check=False)
                    os.killpg(sampler.pid, 15)
                    samples = sampler.communicate()[0].split("--\n")[:-1]
                    if res.returncode != 0:
                        raise CheckError(f"apply exited {res.returncode}: {res.stderr.strip()}")
                    staying = sorted({v["address"] for v in old["vips"]} & {v["address"] for v in new["vips"]})
                    for sample in samples:
                        missing = [v for v in staying if f" {v}/32 " not in sample]
                        if missing:
                            raise CheckError(f"VIP(s) {missing} that stay went down during the apply")
                traffic.wait(timeout=30)
                asking.wait(timeout=60)
                os.killpg(connecting.pid, 15)
                tried, failed = map(int, (connecting.communicate(timeout=10)[0].split() or ["0", "0"])[-2:])
                os.killpg(listener.pid, 15)
                listener.wait()
                if outage:
                    return tried, failed
                if not wrong_order and staying and (failed or not tried):
                    raise CheckError(f"{failed} of {tried} connections to the VIPs that stay failed during the apply")
                seen = leaks(cap.stop(), every)
                if wrong_order:
                    return seen
                if seen:
                    raise CheckError(f"a VIP leaked during the change: {seen[0]}")
                vips_up(srv, new, new["interface"])
                gone = [v for v in every if v not in {x["address"] for x in new["vips"]}]
                up = [a for a, _, _ in addresses(srv) if a in gone]
                if up:
                    raise CheckError(f"VIP(s) {up} that left the manifest are still up")
                return (f"no leak while {len(new['steps']['apply'])} apply steps ran under ARP traffic; the VIPs that "
                        f"stay were up in each of {len(samples)} samples"
                        + (f" and took {tried} connections, none failed" if staying else ""))
            finally:
                srv.delete()
                nb.delete()
        check(label, change)
        # The control needs a VIP that leaves: the wrong order leaks only for that one.
        leaving = {v["address"] for v in old["vips"]} - {v["address"] for v in new["vips"]}
        if leaving and not control_done:
            def control(change=change):
                seen = change(wrong_order=True)
                if not seen:
                    raise CheckError("loading the new rules before the VIP left did not leak: the check cannot fail")
                return f"the neighbour saw '{seen[0]}'"
            check(f"control: {label} in the wrong order (new rules first) leaks, and the check sees it", control)

            def outage_control(change=change):
                tried, failed = change(outage=True)
                if not failed:
                    raise CheckError(f"every VIP down for the reload, yet {tried} connections all succeeded: "
                                     "the check cannot see an outage")
                return f"{failed} of {tried} connections failed, as expected"
            if {v["address"] for v in old["vips"]} & {v["address"] for v in new["vips"]}:
                check(f"control: {label} with every VIP down for the reload (as applies were) drops connections, "
                      "and the check sees it", outage_control)
            control_done = True
    return control_done
