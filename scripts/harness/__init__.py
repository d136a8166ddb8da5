"""The test harness shared by scripts/host-check, scripts/ansible-check,
scripts/realhost/check, scripts/realhost/cluster and scripts/vm-check: one runner (runner),
test hosts in network namespaces (netns), the platforms' model (platform, over
scripts/lib/platform.sh, which the VM's guest sources too), the checks by concern:
artifacts, directors, servers (boot, other programs, controls) and changes; the real
el9-class hosts in containers (realhost) and QEMU with its real-userland director VMs (qemu).
"""
