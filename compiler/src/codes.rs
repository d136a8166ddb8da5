//! The catalogue of diagnostic codes: stable identifiers, titles and the long explanations behind `lvsdr explain`.
//!
//! Codes are a contract: once published, a code keeps its meaning. New checks get new codes.

use serde::{Serialize, Serializer};

/// How bad a diagnostic is: errors stop the compile, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $title:literal, $explain:literal; )*) => {
        /// A stable diagnostic code (`E0001`, `W0001`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// One line saying what the code is about.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }

            /// The long form: why it matters, an example, and the fix; the releases it
            /// names come from the platform table (`platform_prose`).
            pub fn explanation(self) -> std::borrow::Cow<'static, str> {
                let text: &'static str = match self { $( Code::$variant => $explain, )* };
                crate::platform_prose::expand(text)
            }
        }
    };
}

codes! {
    InvalidJson = "E0001", Error, "the manifest is not valid JSON",
"The manifest must be one JSON document (RFC 8259): no comments, no trailing
commas, strings in double quotes.

Example:
    { \"version\": 1, \"cluster\": \"web-prod\", }      <- trailing comma

Fix: remove what the parser points at. `python3 -m json.tool FILE` shows the
same position.";

    UnknownKey = "E0002", Error, "unknown key",
"Every object in the manifest accepts a fixed set of keys. An unknown key is an
error rather than ignored, because a misspelt key (`adress`, `platfrom`)
silently falls back to a default that then reaches a server.

Example:
    { \"name\": \"web1\", \"adress\": \"10.0.0.11/24\" }

Fix: correct the spelling (the hint names the closest known key) or remove the
key. The accepted keys are listed in docs/manifest.md (`lvsdr man manifest`) and in
`lvsdr schema`.";

    WrongType = "E0003", Error, "a value has the wrong JSON type",
"Each key takes one JSON type: names, addresses and enumerations are strings,
ports, weights and timeouts are integers, lists are arrays.

Example:
    \"port\": \"80\"        <- a string where an integer is expected

Fix: write the value with the type the message names (`\"port\": 80`).";

    MissingKey = "E0004", Error, "a required key is missing",
"Some keys have no sensible default and must be written: `version`,
`cluster`, `directors`, `services`, `real_servers`, every object's `name`,
`address` on directors and real servers, `vip` and `real_servers` on services,
`server` in a service's real-server list.

Example:
    { \"name\": \"www\", \"vip\": \"10.0.0.100\", \"real_servers\": [...] }   (no \"port\")

Fix: add the key the message names.";

    UnsupportedVersion = "E0005", Error, "unsupported manifest version",
"This lvsdr reads version 1 of the manifest format.

Example:
    \"version\": 2

Fix: write `\"version\": 1`, or use the lvsdr release that reads your version.";

    InvalidName = "E0006", Error, "invalid name",
"Names of the cluster, directors, services and real servers become directory
names, file names, comments and shell words on the servers. Only
`[a-z0-9][a-z0-9-]{0,62}` is accepted: lower-case ASCII letters, digits and
dashes, starting with a letter or digit, at most 63 characters. Anything else
(upper case, dots, slashes, spaces, quotes, `$`, non-ASCII look-alikes) could
escape the output directory or a shell word, so it is rejected, never escaped.

Example:
    \"name\": \"Web_1\"

Fix: use `web-1`.";

    DuplicateName = "E0007", Error, "a name is used twice",
"Services need unique names, and so do hosts: a director's or real server's
name is its output directory, so no director may share a real server's name
either; services refer to real servers by name.

Example:
    \"real_servers\": [ { \"name\": \"web1\", ... }, { \"name\": \"web1\", ... } ]

Fix: rename one of the two; the hint points at the first use.";

    UnknownServer = "E0008", Error, "a service names an undeclared real server",
"Each entry of a service's `real_servers` list names a real server declared in
the top-level `real_servers` list.

Example:
    \"real_servers\": [ { \"server\": \"web3\" } ]   <- no real server web3

Fix: declare the real server, or correct the name (the hint names the closest
declared one).";

    InvalidAddress = "E0009", Error, "invalid IPv4 address",
"Directors and real servers take their real IP with its prefix length
(`10.0.0.11/24`); a service's `vip` takes a bare IPv4 address (`10.0.0.100`).
Dotted-quad notation only: no leading zeros, no hostnames.

Example:
    \"address\": \"10.0.0.300/24\"   or   \"vip\": \"10.0.0.100/32\"

Fix: write the address in the form the message names.";

    Ipv6NotSupported = "E0010", Error, "an IPv6 address in an IPv4 key",
"A host's `address` is its IPv4 address with prefix: the directors' and real
servers' IPv4 files, VRRP and the IPv4 VIPs are built on it. A host's IPv6
address goes in `address6`, which a service with an IPv6 VIP needs on every
director and on its real servers.

Example:
    { \"name\": \"web1\", \"address\": \"2001:db8:10::11/64\" }

Fix: write the IPv4 address as `address` and the IPv6 one as `address6`:
    { \"name\": \"web1\", \"address\": \"192.168.10.11/24\", \"address6\": \"2001:db8:10::11/64\" }";

    PrefixOutOfRange = "E0011", Error, "prefix length out of range",
"A director's or real server's prefix length must be between 8 and 32: it
describes the L2 segment the director and the real servers share.

Example:
    \"address\": \"10.0.0.11/4\"

Fix: write the prefix of the interface's subnet, e.g. `/24`.";

    AddressReused = "E0012", Error, "an address is used twice",
"Every director and real server has its own real IP. Two hosts with the same
address means one of them is misconfigured, and the director would send one
host's traffic to the other.

Example:
    { \"name\": \"web1\", \"address\": \"10.0.0.11/24\" }, { \"name\": \"web2\", \"address\": \"10.0.0.11/24\" }

Fix: give each host its own address; the hint points at the first use.";

    VipSpecial = "E0013", Error, "the VIP is a special-purpose address",
"A VIP must be a unicast address that clients can reach: not loopback
(127.0.0.0/8), multicast (224.0.0.0/4), link-local (169.254.0.0/16),
unspecified (0.0.0.0), limited broadcast (255.255.255.255) or reserved
(240.0.0.0/4).

Example:
    \"vip\": \"127.0.0.10\"   or   \"vip\": \"224.0.0.5\"

Fix: choose a unicast address for the VIP.";

    VipClash = "E0014", Error, "the VIP is a host's own address or its subnet's network or broadcast address",
"A VIP lives on the active director and, without ARP, on every real server. It
must not be a director's or real server's own real IP (that host would answer
ARP for it), nor the network or broadcast address of their subnets (the kernel
treats those specially).

Example:
    \"vip\": \"10.0.0.11\"    where real server web1 has 10.0.0.11/24

Fix: choose an unused address for the VIP.";

    DuplicateService = "E0015", Error, "two services share VIP, protocol and port",
"IPVS identifies a virtual service by (VIP, protocol, port). Two services with
the same triple would be one service on the director.

Example:
    { \"name\": \"www\", \"vip\": \"10.0.0.100\", \"port\": 80 }, { \"name\": \"web\", \"vip\": \"10.0.0.100\", \"port\": 80 }

Fix: merge the two services, or change the port or VIP of one; the hint points
at the first.";

    PortOutOfRange = "E0016", Error, "port out of range",
"A service's `port` is between 0 and 65535. Port 0 means all ports and
requires persistence (E0017).

Example:
    \"port\": 70000

Fix: write a port in range.";

    PortZeroNeedsPersistence = "E0017", Error, "port 0 requires persistence",
"A service on port 0 forwards every port of the VIP (an IPVS 'all ports'
service), which IPVS only accepts as a persistent service.

Example:
    { \"name\": \"all\", \"vip\": \"10.0.0.100\", \"port\": 0, ... }   (no \"persistence\")

Fix: set `persistence` to the number of seconds, e.g. `\"persistence\": 300`.";

    UnknownProtocol = "E0018", Error, "unknown protocol",
"A service's `protocol` is `tcp` or `udp`.

Example:
    \"protocol\": \"sctp\"

Fix: write one of them, in lower case.";

    UnknownScheduler = "E0019", Error, "unknown scheduler",
"A service's `scheduler` is one of the IPVS schedulers: `rr` `wrr` `lc` `wlc`
`lblc` `lblcr` `dh` `sh` `sed` `nq`. The default is `wlc`.

Example:
    \"scheduler\": \"roundrobin\"

Fix: write one of them, in lower case.";

    UnknownPlatform = "E0020", Error, "unknown platform",
"A `platform` is one of {platforms} (the RHEL-family
major release of the server). It decides the default ARP suppression dialect:
arptables_jf on {on:default-arptables_jf}, arptables on {on:default-arptables-dialect}, nftables on {on:default-nftables}; `sysctl` (the
kernel's switches, VIPs on `lo`) is available on all.

Example:
    \"platform\": \"centos7\"

Fix: write one of them.";

    InvalidInterface = "E0021", Error, "invalid interface name",
"An `interface` is a Linux interface name: 1 to 15 characters of ASCII letters,
digits, `_`, `.` and `-`, not starting with `.` or `-` (e.g. `eth0`, `ens192`,
`bond0.100`). It becomes part of file names, alias labels and shell words, so
nothing else is accepted; the alias part (`:<n>`) is added by lvsdr.

Example:
    \"interface\": \"eth0;reboot\"

Fix: write the parent interface's name, without an alias suffix.";

    WeightOutOfRange = "E0022", Error, "weight out of range",
"A real server's `weight` in a service is between 0 and 65535. Weight 0
quiesces the server: it keeps its VIP and existing connections but receives no
new ones. The default is 1.

Example:
    { \"server\": \"web1\", \"weight\": 100000 }

Fix: write a weight in range.";

    PersistenceOutOfRange = "E0023", Error, "persistence out of range",
"A service's `persistence` is a timeout in seconds between 0 (no persistence)
and 2678400 (31 days): a longer affinity outlives any real session and is
almost always a unit mistake (minutes or milliseconds written as seconds).

Example:
    \"persistence\": 2678401

Fix: write a value in range.";

    SuppressionUnavailable = "E0024", Error, "the ARP suppression tool is not available on the platform",
"arptables_jf is on {on:arptables_jf}, arptables on {on:arptables} and nftables on
{on:nftables} (RHEL 8 and 9 ship iptables-nft's arptables, deprecated, which lvsdr
does not use; RHEL 10 none). Every release has the kernel's own switches (`sysctl`).

Example:
    { \"platform\": \"el8\", \"arp_suppression\": \"arptables\" }

Fix: remove `arp_suppression` to get the platform's default, or pick the tool
the platform has.";

    UnknownSuppression = "E0025", Error, "unknown ARP suppression method",
"`arp_suppression` names an ARP suppression method: the message lists the
ones this lvsdr knows (`lvsdr schema manifest` too). Today they are netfilter
rules, `arptables` (on {on:arptables_jf} the arptables_jf dialect) and `nftables`, and
`sysctl`, no rules at all: the kernel's `arp_ignore` 1 and `arp_announce` 2 on
the interface, with the VIPs on `lo`.

Example:
    \"arp_suppression\": \"iptables\"

Fix: write one of them, or remove the key to get the platform's default.";

    NotOneSegment = "E0026", Error, "a director and a real server do not share a subnet",
"Direct routing rewrites only the destination MAC of a packet, so the director
must reach every real server it forwards to on the same L2 segment: each
director's address must lie in the real server's subnet and the real server's
address in the director's.

Example:
    director 10.0.0.2/24, real server 10.0.1.11/24

Fix: correct the address or prefix, or, if the hosts really are on different
segments, LVS-DR is not the forwarding method for them (use LVS-TUN or NAT).";

    AliasLabelTooLong = "E0027", Error, "the VIP's alias label is longer than 15 characters",
"Where a host's configuration names VIPs by label — a real server on the
initscripts network service (its ifcfg alias files are `ifcfg-<interface>:<n>`)
and a Piranha director (lvs.cf's `address = <vip> <interface>:<n>`) — lvsdr
labels each VIP `<interface>:<n>`, n = 1000 x (third octet) + (fourth octet) of
the VIP (10.0.1.100 -> 1100), so that a VIP keeps its label when others come and
go. The kernel limits labels to 15 characters. NetworkManager real servers and
keepalived directors carry VIPs without labels, so any interface name works there.

Example:
    { \"interface\": \"enp129s0f1\", \"network_stack\": \"initscripts\" }, VIP 10.0.200.250
    -> enp129s0f1:200250 (17 chars)

Fix: on {on:both-stacks}, run the server with NetworkManager (leave `network_stack` out);
else rename the interface with a shorter name (udev rule, `biosdevname=0`), or
choose a VIP whose label fits.";

    AliasCollision = "E0028", Error, "two VIPs of one host get the same alias label",
"The alias number is 1000 x (third octet) + (fourth octet) of the VIP, so two
VIPs that differ only in their first two octets (10.0.1.100 and 10.1.1.100) get
the same label on a host that holds both and names VIPs by label: a real server
on the initscripts network service, or a Piranha director (which holds every VIP).

Example:
    one initscripts real server with \"vip\": \"10.1.10.100\" and \"vip\": \"192.168.10.100\"
    (both eth0:10100)

Fix: choose VIPs whose last two octets differ, or ({on:both-stacks} real servers) use
NetworkManager, which needs no labels.";

    NoDirector = "E0029", Error, "no director",
"An LVS-DR cluster needs at least one director (the LVS router that owns the
VIPs). List them primary first.

Example:
    \"directors\": []

Fix: add a director with its name and address.";

    HostAddressSpecial = "E0030", Error, "a host address is not a usable unicast address",
"A director's or real server's address must be a usable unicast host address
of its subnet: not the subnet's network or broadcast address, not loopback,
multicast, link-local or unspecified.

Example:
    \"address\": \"10.0.0.0/24\"    <- the network address

Fix: write the host's real IP.";

    DuplicateKey = "E0031", Error, "a key appears twice in one object",
"JSON parsers disagree about duplicate keys (most keep the last, some the
first), so a manifest that repeats a key means different things to different
tools. lvsdr rejects it.

Example:
    { \"name\": \"web1\", \"address\": \"10.0.0.11/24\", \"name\": \"web2\" }

Fix: remove one of the two; the hint points at the first.";

    DuplicateMember = "E0032", Error, "a service lists a real server twice",
"IPVS holds one destination per real server and port in a service.

Example:
    \"real_servers\": [ { \"server\": \"web1\" }, { \"server\": \"web1\", \"weight\": 2 } ]

Fix: list each real server once per service.";

    MixedFailover = "E0033", Error, "directors run different failover software",
"A director's platform decides what drives it: Piranha's pulse on {on:piranha}
(lvs.cf), keepalived on {on:keepalived} (keepalived.conf). pulse's heartbeat and
keepalived's VRRP do not talk to each other, so a pair that mixes them would
both claim the VIPs.

Example:
    \"directors\": [ { \"name\": \"lvs1\", ..., \"platform\": \"el6\" },
                   { \"name\": \"lvs2\", ..., \"platform\": \"el7\" } ]

Fix: give every director a platform of the same family ({on:piranha}, or {on:keepalived}).";

    TooManyDirectors = "E0034", Error, "more directors than the failover software pairs",
"Piranha's pulse knows one primary and one backup (lvs.cf's `primary` and
`backup`); a third director would never take over.

Example:
    \"defaults\": { \"platform\": \"el6\" }, \"directors\": [ lvs1, lvs2, lvs3 ]

Fix: list at most two directors on {on:piranha}, or move the directors to {on:keepalived}
(keepalived's VRRP takes any number).";

    PiranhaAllPorts = "E0035", Error, "Piranha cannot check an all-ports service",
"nanny, Piranha's health checker, connects to each real server on the
service's port. A port-0 (all ports) service gives it no port to check, so
every real server would be taken out of the pool.

Example:
    \"directors\": [ { ..., \"platform\": \"el6\" } ], \"services\": [ { ..., \"port\": 0, \"persistence\": 300 } ]

Fix: give the service its real port, or run the directors on {on:keepalived}
(keepalived checks such a service by pinging the real server).";

    VrrpRouterIdOutOfRange = "E0036", Error, "vrrp_router_id out of range",
"`vrrp_router_id` is the VRRP virtual router id of the cluster's keepalived
instance, 1 to 255. It must differ from every other VRRP instance on the
segment; by default lvsdr derives it from the cluster name (see docs/guide.md).

Example:
    \"vrrp_router_id\": 256

Fix: write a number from 1 to 255 that no other VRRP router on the segment uses.";

    ManifestTooLarge = "E0037", Error, "the manifest is too large",
"lvsdr reads at most 128 MiB of manifest unless --max-manifest-size says otherwise.
A manifest of 50,000 real servers (scripts/bench) takes about 45 MiB, indented;
anything past the limit is usually a wrong file, a generator gone wrong, or input
meant to exhaust memory. lvsdr stops reading at the limit.

Example:
    a 200 MB manifest, or one padded with megabytes of whitespace

Fix: check that MANIFEST is the file you meant; if it is, raise the limit, e.g.
`lvsdr --max-manifest-size 512M compile ...`, or split the fleet into one
manifest per cluster.";

    UnknownNetworkStack = "E0038", Error, "unknown network stack",
"`network_stack` says what configures a real server's interfaces at boot:
`networkmanager` or `initscripts` (the network service and its ifcfg files). It
decides which artifacts bring the VIPs up safely: NetworkManager reads ifcfg alias
files and announces their addresses, so NetworkManager hosts get none.

Example:
    \"network_stack\": \"network-scripts\"

Fix: write `initscripts` for the network service, `networkmanager` for
NetworkManager, or leave the key out for the platform's default.";

    NetworkStackUnavailable = "E0039", Error, "the platform has no such network stack",
"{on:initscripts-only} have only the initscripts network service; {on:networkmanager-only} have only
NetworkManager (RHEL 9 no longer ships network-scripts, RHEL 10's NetworkManager reads
no ifcfg files); {on:both-stacks} have both, with NetworkManager as the default.

Example:
    { \"name\": \"web1\", \"platform\": \"el9\", \"network_stack\": \"initscripts\" }

Fix: name a stack the platform has, or leave the key out.";

    UsageError = "E0040", Error, "the command line is not valid",
"An unknown command or option, a missing argument, or a `--server` or
`--artifact` that the manifest does not have. Exit status 2.

Example:
    lvsdr compile cluster.json        (no -o OUT)

Fix: see `lvsdr --help` and `lvsdr COMMAND --help`; the message names the
part that is wrong.";

    ReadError = "E0041", Error, "a file cannot be read",
"The manifest (or, for `compile --check`, the output directory) could not be
read: it does not exist, is not readable, or is not what was expected.
Exit status 2.

Example:
    lvsdr check /nonexistent/cluster.json

Fix: check the path and its permissions.";

    WriteError = "E0042", Error, "the output tree cannot be written",
"lvsdr writes OUT only when it is absent, empty, or a tree it wrote itself
(every file listed in its own index.json), and never through a symbolic
link. It refuses otherwise, or reports the file-system error it hit; OUT is
left as it was. Exit status 2.

Example:
    lvsdr compile cluster.json -o /etc   (a directory lvsdr did not write)

Fix: compile into a new directory, or move the foreign files away.";

    Ipv6Unavailable = "E0043", Error, "a host cannot hold an IPv6 VIP",
"An IPv6 VIP must never be answered by a real server's Neighbour Discovery, as
an IPv4 VIP must never be answered by its ARP. The nftables dialect drops
Neighbour Solicitations for the VIP and Advertisements of it in a table `ip6
lvsdr`; the sysctl dialect puts the VIP on `lo`, where Linux never answers a
solicitation that arrives on another interface. arptables and arptables_jf see
only ARP, so a real server using them would answer for the VIP. {on:no-ipv6}
(kernel 2.6.9/2.6.18) predate IPVS's IPv6 support and `ip`'s `nodad` flag, and
Piranha (the {on:piranha} directors) has no IPv6 at all.

Example:
    { \"name\": \"web1\", \"platform\": \"el7\", \"address6\": \"2001:db8:10::11/64\" }
    (el7's default is arptables) in a service whose vip is 2001:db8:10::100

Fix: give the real server `\"arp_suppression\": \"sysctl\"` (or nftables on {on:default-nftables}),
run the directors on {on:keepalived} (keepalived), or keep the service on IPv4.";

    MissingAddress6 = "E0044", Error, "a host of an IPv6 service has no address6",
"Direct routing forwards a packet for an IPv6 VIP to a real server's own IPv6
address on the segment, so every director needs an IPv6 address there (its
route to the real servers) and every real server of the service needs one
(IPVS's destination). lvsdr takes them from `address6`; it never guesses.

Example:
    { \"name\": \"web1\", \"address\": \"192.168.10.11/24\" }
    in a service whose vip is 2001:db8:10::100

Fix: add the host's IPv6 address with its prefix:
    \"address6\": \"2001:db8:10::11/64\"";

    ProbeError = "E0045", Error, "the probe cannot run",
"`lvsdr probe` needs a valid manifest, an Ethernet interface on the VIPs'
segment, and root (a packet socket). Exit status 2 (Nagios: 3, UNKNOWN).

Example:
    lvsdr probe cluster.yaml --interface eth9     (no such interface)

Fix: name the interface that is on the directors' and real servers' segment,
and run as root.";

    UnknownCheckKeyword = "E0046", Error, "unknown health check type or failure action",
"A health check's `type` is one of tcp, http, https, command and none; its
`on_failure` is remove or inhibit.

Example:
    \"health_check\": { \"type\": \"HTTP_GET\" }

Fix: write the keyword lvsdr names (`http`): lvsdr writes keepalived's block
(HTTP_GET) itself.";

    HealthCheckKey = "E0047", Error, "a health check key does not fit its type",
"Each check type takes its own keys: `path`, `status`, `digest` and `host` belong
to http and https, `command` to command; `none` takes no other key. A service on
every port (port 0) has no port to connect to, so a tcp, http or https check of
it needs its own `port`, and a command check needs its `command`. A key that does
not fit would be ignored by keepalived, or make it refuse the file.

Example:
    \"health_check\": { \"type\": \"tcp\", \"path\": \"/health\" }

Fix: remove the key, or change the type (\"http\") to the check you meant.";

    HealthCheckValue = "E0048", Error, "a health check value is not valid",
"Everything a check writes into keepalived.conf or lvs.cf is checked at the
edge, never quoted later: a path starts with '/' and holds no space, quote,
'#' or '!' (keepalived's comment characters); a status is 100-599; a digest is
32 hex digits (the MD5 genhash prints); a host is a DNS name; the command is an
absolute program path and words of letters, digits and `_./+,:=@%-`, with
{address} and {port} standing for the real server's; times are 1-3600 seconds
and retries 0-100. A digest and a status cannot both be asked for.

Example:
    \"command\": [\"/usr/local/bin/check\", \"--host\", \"$(hostname)\"]

Fix: write the value plainly; a shell's expansion belongs in the script.";

    PiranhaUnsupported = "E0049", Error, "Piranha's lvs.cf cannot express a setting",
"Piranha's nanny checks a real server by connecting and, optionally, sending a
string and matching the answer (`send`/`expect`, `use_regex`); its timing is
global (keepalive, deadtime) and it has no TLS, no command exit status, no
sorry server, no quorum, no VRRP and no per-server check. lvsdr writes lvs.cf
only for what it can say, and refuses the rest rather than drop it.

Example:
    a service with \"health_check\": { \"type\": \"https\" } on el6 directors

Fix: use a tcp or http check, drop the setting on {on:piranha}, or run the
directors on {on:keepalived} (keepalived).";

    SorryServerInvalid = "E0050", Error, "the sorry server is not a declared real server",
"In direct routing a sorry server answers from the VIP like any real server, so
it must hold the VIP behind ARP suppression: lvsdr gives it the VIP, which it can
only do for a real server of the manifest. Its address must be a declared real
server's address in the VIP's family, and not one of the service's own members.

Example:
    \"sorry_server\": \"192.168.10.250\"     (no real server has it)

Fix: declare the sorry server under real_servers and use its address.";

    QuorumInvalid = "E0051", Error, "quorum or hysteresis out of range",
"keepalived counts a service as up while its healthy real servers' weights add up
to at least `quorum`; `hysteresis` keeps it from flapping around that line. The
quorum is at least 1, the hysteresis below the quorum.

Example:
    \"quorum\": 2, \"hysteresis\": 2

Fix: a hysteresis below the quorum (\"hysteresis\": 1).";

    VrrpInvalid = "E0052", Error, "a VRRP setting is not valid",
"The VRRP settings must agree with each other and the cluster: `preempt_delay`
applies only with preemption; each tracked interface is listed once; unicast
needs a second director to advertise to; with IPv6 VIPs (a VRRP version 3
instance, whose interval field holds 40.95 s) `advert_int` is at most 40; the router
id is given once, as `vrrp.router_id` or the older `vrrp_router_id`.

Example:
    \"vrrp\": { \"preempt\": false, \"preempt_delay\": 30 }

Fix: keep preemption and delay it, or turn it off without a delay.";

    VrrpRouterIdInUse = "E0053", Error, "the VRRP router id is already in use on the segment",
"Two VRRP routers with one virtual_router_id on a segment take each other's
advertisements for their own: each side logs errors and both may hold the VIPs.
lvsdr derives a router id from the cluster name unless one is given; list the
ids other clusters and routers on the segment use in `vrrp.router_ids_in_use`,
and lvsdr refuses to reuse one.

Example:
    \"vrrp\": { \"router_ids_in_use\": [26, 51] }   (cluster web-prod derives 26)

Fix: give the cluster an unused \"router_id\".";

    VrrpValueOutOfRange = "E0054", Error, "a VRRP value is out of range or not valid",
"`vrrp.advert_int` is 1-255 seconds, `vrrp.preempt_delay` 1-1000 seconds, each of
`vrrp.router_ids_in_use` 1-255, and `vrrp.notify` an absolute path of letters,
digits and `_.+,:=@%-` (no component starting with '.'): keepalived runs it as
root, so nothing a shell would read reaches it.

Example:
    \"vrrp\": { \"advert_int\": 0, \"notify\": \"lvs-notify.sh; reboot\" }

Fix: a value in range; the script's plain absolute path.";

    UnknownFirewall = "E0055", Error, "unknown firewall",
"A director's `firewall` is firewalld or none.

Example:
    { \"name\": \"lvs1\", \"address\": \"10.0.0.2/24\", \"firewall\": \"iptables\" }

Fix: write firewalld ({on:firewalld}) or none (no firewall lvsdr configures).";

    FirewallUnavailable = "E0056", Error, "the platform has no such firewall",
"firewalld is the firewall of {on:firewalld}; {on:no-firewalld} directors have none that
lvsdr configures (their iptables service's rules are the admin's).

Example:
    { \"name\": \"lvs1\", \"platform\": \"el6\", \"firewall\": \"firewalld\" }

Fix: remove the key on {on:no-firewalld}, or move the director to {on:firewalld}.";

    KeepalivedTooOld = "E0057", Error, "el7's keepalived cannot express a health check setting",
"RHEL 7 ships keepalived 1.3.5. Its checkers know no `retry` outside TCP_CHECK
(HTTP_GET calls it nb_get_retry, MISC_CHECK has none), no `delay_loop` of their
own and no `virtualhost`; it logs \"Unknown keyword\" and goes on without them, so
a Host header would be the real server's address and every name-based check
would fail. lvsdr refuses rather than write keys el7 would drop.

Example:
    an el7 director, and a service with
    \"health_check\": { \"type\": \"http\", \"host\": \"www.example.com\" }

Fix: drop the key for {on:keepalived-1} directors, or move them to {on:keepalived-2} (keepalived 2).";

    PortsInvalid = "E0058", Error, "a service's port or ports are malformed",
"A service names its traffic with `port` (one port, 0 for every port) or with
`ports` (a list of ports and \"FIRST-LAST\" ranges, 1-65535): a firewall-mark
service, which IPVS balances as one, so that persistence holds across its ports
(FTP's control and data ports, HTTP and HTTPS of one site). Exactly one of the two;
`ports` a non-empty list whose items are ports 1-65535 or ranges of them.
`firewall_mark` belongs to a `ports` service only.

Example:
    { \"name\": \"shop\", \"vip\": \"192.168.10.100\", \"port\": 80, \"ports\": [80, 443] }

Fix: keep `port` for one port, or `ports` for several; write ranges as \"8000-8099\".";

    FirewallMarkInvalid = "E0059", Error, "a firewall mark is out of range or on a one-port service",
"A firewall-mark service's `firewall_mark` is the netfilter mark its director sets on
the service's packets and the number keepalived, ipvsadm and lvs.cf name the IPVS
service by: 1-4294967295, on a service with `ports`. lvsdr gives a `ports` service
without one the lowest mark no other service declares, in manifest order; declare it
when other rules on the directors use marks, or to keep a service's mark when
services are added before it.

Example:
    \"port\": 80, \"firewall_mark\": 7

Fix: write the mark on a `ports` service, 1-4294967295, or leave the key out.";

    PortsConflict = "E0060", Error, "a service's ports conflict",
"Each port of a VIP and protocol belongs to one service, once. A range is written
FIRST-LAST with FIRST below LAST, and a `ports` list names no port twice. IPVS
looks a packet up by its firewall mark first: a port that a firewall-mark service
lists and another service of the same VIP and protocol also serves would go to the
firewall-mark service, and the other would never see it. Two firewall-mark
services listing one port would mark it twice, the later rule winning.

Example:
    \"www\": port 443, and \"shop\": ports [80, 443], both on 192.168.10.100 tcp

Fix: serve each port of a VIP and protocol in one service; write ranges low to high.";

    FirewallMarkInUse = "E0061", Error, "two services declare one firewall mark",
"Two firewall-mark services with one mark would be one IPVS service: the directors
would balance both services' ports over the union of their real servers.

Example:
    \"shop\" and \"ftp\" both with \"firewall_mark\": 1

Fix: give each its own mark, or leave the key out and let lvsdr number them.";

    InternalError = "E0999", Error, "internal error",
"lvsdr hit a condition its own checks should have ruled out. The manifest may be
fine; please report it with the manifest that triggers it.

Example:
    (none: no manifest should produce it)

Fix: report it with the manifest that triggers it.";

    UnusedRealServer = "W0001", Warning, "a real server serves no service",
"A declared real server that no service names gets ARP suppression with no
VIPs and no aliases: its artifacts change nothing. Usually a service's
`real_servers` list forgot it.

Example:
    \"real_servers\": [ ..., { \"name\": \"spare1\", \"address\": \"10.0.0.19/24\" } ]   (in no service)

Fix: add it to a service, or remove it from the manifest.";

    El7NftablesVersion = "W0002", Warning, "el7 with nftables needs nftables 0.9.1 or later",
"The nftables script matches and rewrites ARP addresses with `arp saddr ip` and
`arp daddr ip`, which nftables understands from 0.9.1 on. RHEL 7 ships 0.8,
which rejects the script; the server then boots without suppression and the
rc.local fragment, failing closed, leaves the VIP down.

Example:
    { \"name\": \"web2\", ..., \"platform\": \"el7\", \"arp_suppression\": \"nftables\" }

Fix: on el7 prefer `\"arp_suppression\": \"arptables\"` (the default), or make
sure the server has nftables 0.9.1 or later.";

    EmptyService = "W0003", Warning, "a service has no real servers",
"A service with an empty `real_servers` list has nowhere to send traffic. keepalived
ignores such a virtual server (\"has no real servers - ignoring\"), so lvsdr leaves it
out of every director file (keepalived.conf, lvs.cf and the ipvsadm table agree): the
directors still hold the VIP, and connections to its port are refused. Usually the
list was emptied by mistake, or the service should go.

Example:
    { \"name\": \"api\", \"vip\": \"10.0.0.101\", \"port\": 8080, \"real_servers\": [] }

Fix: add a real server, or remove the service.";

    DrainedService = "W0004", Warning, "every real server of a service has weight 0",
"Weight 0 quiesces a real server: IPVS keeps its existing connections but sends it
no new ones. When every real server of a service has weight 0, new connections to
the service go nowhere. That is right while draining a service on purpose, and a
blackhole otherwise. keepalived notes it too (quorum reduced to 0).

Example:
    \"real_servers\": [ { \"server\": \"web1\", \"weight\": 0 }, { \"server\": \"web2\", \"weight\": 0 } ]

Fix: give at least one real server a weight above 0, or remove the service.";

    QuorumUnreachable = "W0005", Warning, "a service's quorum exceeds its real servers' total weight",
"keepalived counts a service as up only while the weights of its healthy real
servers add up to at least `quorum`. When all of them together weigh less, the
quorum could never be met, so keepalived lowers it to their total and warns at
every start (keepalived issue 739): the file says one quorum, the director runs
another.

Example:
    \"quorum\": 5 with two real servers of weight 1

Fix: lower the quorum, or raise the weights.";
}

impl Code {
    /// Whether the code is about a manifest's contents, so that a fixture can produce it:
    /// not the command-line and file-system codes (E004x, tested through the CLI) nor
    /// the internal error.
    pub fn about_manifest(self) -> bool {
        !matches!(self, Code::UsageError | Code::ReadError | Code::WriteError | Code::ProbeError | Code::InternalError)
    }

    /// Looks a code up by its text, case-insensitively (`e0012` works too).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
