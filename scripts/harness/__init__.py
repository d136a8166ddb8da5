"""The test harness shared by scripts/host-check, scripts/ansible-check and
scripts/realhost/check: one runner (runner), test hosts in network namespaces (netns),
the platforms' model (platform, over scripts/lib/platform.sh, which the VM's guest
sources too), and the checks by concern: artifacts, directors, servers (boot, other
programs, controls) and changes.
"""
