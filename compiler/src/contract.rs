//! The output contracts: `index.json` and every `--format json` result, as documented
//! serde types that lvsdr writes and every reader — the writer's replaceability check,
//! review, the tests, `scripts/` through `lvsdr schema index` — reads.
//!
//! These are apart from the internal model on purpose (netavark keeps its JSON types
//! apart the same way): the model may change shape, these change only with `format`.
//! Every type derives `JsonSchema`; `lvsdr schema WHAT` prints any of them. Maps are
//! serialized through `serde_json::Value`, whose keys are sorted, so field order never
//! reaches the output.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `generator` value in `index.json`; the writer only replaces trees that carry it.
pub const GENERATOR: &str = "lvsdr";
/// Version of the output tree's layout and of `index.json`.
pub const TREE_FORMAT: u32 = 1;
pub const INDEX_FILE: &str = "index.json";

/// `index.json`: what the tree holds, for whom, and how each file goes onto its host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Index {
    /// Always "lvsdr".
    pub generator: String,
    /// The layout version of the tree and this file.
    pub format: u32,
    pub cluster: String,
    /// The lines that wrap every `block` artifact.
    pub block_markers: BlockMarkers,
    /// Real servers, sorted by name.
    pub servers: Vec<RealServerEntry>,
    /// Directors, primary first.
    pub directors: Vec<DirectorEntry>,
    pub failover: FailoverEntry,
    /// Virtual services, in manifest order.
    pub services: Vec<ServiceEntry>,
}

/// The first and last line of every block lvsdr merges into a file of the host's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlockMarkers {
    /// `# BEGIN lvsdr <cluster>`
    pub begin: String,
    /// `# END lvsdr <cluster>`
    pub end: String,
}

impl BlockMarkers {
    /// The markers of `cluster`'s blocks: defined here and nowhere else.
    pub fn of(cluster: &str) -> BlockMarkers {
        BlockMarkers { begin: format!("# BEGIN lvsdr {cluster}"), end: format!("# END lvsdr {cluster}") }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RealServerEntry {
    pub name: String,
    /// Real IP with prefix, `10.0.0.11/24`.
    pub address: String,
    /// Its IPv6 address with prefix, `2001:db8:10::11/64`, when the manifest gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address6: Option<String>,
    /// The service interface: ARP for the VIPs arrives here, and the ARP suppression
    /// (rules or switches) acts here.
    pub interface: String,
    /// One of {platforms}.
    pub platform: String,
    /// The dialect: `arptables_jf`, `arptables`, `nftables` or `sysctl`.
    pub arp_suppression: String,
    /// Where the VIPs live: `interface` for the netfilter dialects, `lo` for sysctl.
    pub vip_device: String,
    /// `networkmanager` or `initscripts`.
    pub network_stack: String,
    pub steps: HostSteps,
    /// Sorted by address.
    pub vips: Vec<VipEntry>,
    pub artifacts: Vec<ArtifactEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DirectorEntry {
    pub name: String,
    pub address: String,
    /// Its IPv6 address with prefix, when the manifest gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address6: Option<String>,
    pub interface: String,
    pub platform: String,
    /// The firewall its tree lets VRRP and the services' ports in through: `firewalld` or `none`.
    pub firewall: String,
    /// How it takes its tree: commands in order, as argument vectors.
    pub steps: DirectorSteps,
    /// Its VRRP instance as keepalived runs it (keepalived directors only): when any of
    /// this changes, a reload is not enough (see `lvsdr diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrrp: Option<VrrpEntry>,
    /// Every VIP of the cluster, as this director holds it when active.
    pub vips: Vec<VipEntry>,
    pub artifacts: Vec<ArtifactEntry>,
}

/// How a director takes its tree, first and after every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DirectorSteps {
    /// Run after the files are installed (and again after each change): start at boot,
    /// load the IPVS modules now, let VRRP and the ports in through the firewall.
    pub enable: Vec<Step>,
    /// Then, when the change allows it: check the file, and reload the failover daemon
    /// in place (no VRRP transition). `lvsdr diff` says which of the two a change needs.
    pub reload: Vec<Step>,
    /// Or: check the file, and restart it. Restart the backups first, the primary last.
    pub restart: Vec<Step>,
}

/// What identifies a keepalived director's VRRP instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VrrpEntry {
    /// The instances, `lvsdr-<cluster>` (IPv4) and `lvsdr-<cluster>-v6`.
    pub instances: Vec<String>,
    pub router_id: u8,
    /// `MASTER` or `BACKUP`.
    pub state: String,
    pub priority: u8,
    pub advert_int: u8,
    /// Its own addresses it advertises from (`unicast_src_ip`, per instance); empty for multicast.
    pub unicast_sources: Vec<String>,
    /// The other directors' addresses it advertises to, per instance; empty for multicast.
    pub unicast_peers: Vec<String>,
    /// `yes`, `no`, or `after N` (seconds).
    pub preempt: String,
    pub track_interfaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VipEntry {
    /// IPv4 (a /32 on the host) or IPv6 (a /128), in RFC 5952 text.
    pub address: String,
    /// The alias label it carries on the host's interface, `eth0:100`, where the host's
    /// configuration names VIPs by label (ifcfg alias files, lvs.cf); else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The services on this VIP that include the host.
    pub services: Vec<String>,
}

/// File modes of the tree's artifacts; the writer sets them exactly, whatever the umask.
pub const RULES_MODE: u32 = 0o600;
pub const SCRIPT_MODE: u32 = 0o755;
pub const CONFIG_MODE: u32 = 0o644;

/// How an artifact goes onto its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstallKind {
    /// The whole file, at `install_path`.
    File,
    /// A block between `block_markers`, merged into the file at `install_path`.
    Block,
}

/// Declares `ArtifactKind` with each kind's word written once: the variant's serde name
/// and `as_str` both come from it.
macro_rules! artifact_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $word:literal, )*) => {
        /// What an artifact is: index.json's `kind`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum ArtifactKind {
            $( $(#[$doc])* #[serde(rename = $word)] $variant, )*
        }

        impl ArtifactKind {
            /// Every kind, real servers' first.
            pub const ALL: &'static [ArtifactKind] = &[ $( ArtifactKind::$variant, )* ];

            /// The word index.json says.
            pub fn as_str(self) -> &'static str {
                match self { $( ArtifactKind::$variant => $word, )* }
            }
        }
    };
}

// Every kind of artifact is here. A new one does not compile until each match on kinds
// handles it (none has a wildcard arm), and `tests/architecture.rs` fails until
// scripts/harness's KIND_CHECKS checks its files.
artifact_kinds! {
    /// A real server's arptables rules (el7).
    Arptables = "arptables",
    /// A real server's arptables_jf rules (el4-el6).
    ArptablesJf = "arptables_jf",
    /// A real server's nftables ruleset.
    Nftables = "nftables",
    /// The nftables.service drop-in that loads lvsdr's table again after nftables.service.
    SystemdDropin = "systemd-dropin",
    /// The vips script, `/usr/libexec/lvsdr/vips`.
    Vips = "vips",
    /// One of a real server's systemd units.
    SystemdUnit = "systemd-unit",
    /// The NetworkManager dispatcher script.
    NmDispatcher = "nm-dispatcher",
    /// An ifcfg alias file of one VIP.
    IfcfgAlias = "ifcfg-alias",
    /// The block for `/sbin/ifup-local`.
    IfupLocal = "ifup-local",
    /// The block for `/etc/rc.d/rc.local`.
    RcLocal = "rc-local",
    /// A Piranha director's `lvs.cf`.
    LvsCf = "lvs.cf",
    /// A keepalived director's `keepalived.conf`.
    Keepalived = "keepalived",
    /// A director's IPVS table in `ipvsadm-save -n` form.
    Ipvsadm = "ipvsadm",
    /// A director's modules-load.d file.
    ModulesLoad = "modules-load",
    /// A director's firewalld service.
    FirewalldService = "firewalld-service",
    /// A director's firewall-mark rules as an nft table.
    MarksNftables = "marks-nftables",
    /// A director's IPv4 firewall-mark rules for iptables-restore.
    MarksIptables = "marks-iptables",
    /// A director's IPv6 firewall-mark rules for ip6tables-restore.
    MarksIp6tables = "marks-ip6tables",
    /// A director's firewall-mark rules as firewalld's direct.xml.
    FirewalldDirect = "firewalld-direct",
    /// The unit that loads a director's firewall-mark rules.
    MarksUnit = "marks-unit",
    /// The init script that loads a director's firewall-mark rules.
    MarksInit = "marks-init",
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactEntry {
    /// Unique per host: the kind, or `ifcfg-<label>` for alias files.
    pub id: String,
    pub kind: ArtifactKind,
    /// Path inside the tree.
    pub path: String,
    /// Absolute path on the host.
    pub install_path: String,
    pub install: InstallKind,
    /// Octal, `0600`.
    pub mode: String,
    pub sha256: String,
    /// What makes it take effect at boot, for people; the host's `steps` say it as commands.
    pub activate: String,
}

/// One command, as an argument vector: never a shell string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    pub argv: Vec<String>,
}

impl Step {
    pub fn new<const N: usize>(argv: [&str; N]) -> Step {
        Step { argv: argv.iter().map(|a| (*a).to_owned()).collect() }
    }
}

/// As a unit file's command line or a shell line: every word is a validated value (a
/// path, an address, a name), so joining with spaces needs no quoting.
impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.argv.join(" "))
    }
}

/// How a real server comes up from its tree, and how a changed tree is applied to it:
/// commands in order, as argument vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostSteps {
    /// Run once after the files are installed (and again after each change): what makes
    /// the boot below happen (`systemctl enable`, `chkconfig`).
    pub enable: Vec<Step>,
    /// What the platform then runs at every boot, in order: before any interface is
    /// configured...
    pub boot_before_network: Vec<BootStep>,
    /// ...and once the interface exists and the network is configured.
    pub boot_after_network: Vec<BootStep>,
    /// What applies the installed tree to the running host now, in order: VIPs that left
    /// go down while their old rules still hold, the new rules load, then the VIPs come up
    /// behind them. Run after every change, and after the first install.
    pub apply: Vec<Step>,
}

/// A command the platform runs at boot, and what runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BootStep {
    /// `lvsdr-arp.service`, `the arptables_jf init script`, `rc.local`, ...
    pub by: String,
    pub argv: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailoverEntry {
    /// `piranha` or `keepalived`.
    pub software: String,
    pub vrrp_router_id: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceEntry {
    pub name: String,
    pub vip: String,
    pub protocol: String,
    /// The IPVS service's port: 0 for a service on every port, and for a firewall-mark
    /// service (its `ports` say which).
    pub port: u16,
    /// A firewall-mark service's ports and ranges, as the manifest's `ports` (sorted):
    /// `"443"`, `"8000-8099"`; absent for a one-port service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// A firewall-mark service's mark: the number that names its IPVS service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall_mark: Option<u32>,
    pub scheduler: String,
    pub persistence: u32,
    pub real_servers: Vec<MemberEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemberEntry {
    pub server: String,
    pub weight: u16,
}

impl Index {
    /// Every artifact of every host, directors first.
    pub fn artifacts(&self) -> impl Iterator<Item = (HostRef<'_>, &ArtifactEntry)> {
        let directors = self
            .directors
            .iter()
            .flat_map(|d| d.artifacts.iter().map(move |a| (HostRef { role: Role::Director, name: &d.name }, a)));
        let servers = self
            .servers
            .iter()
            .flat_map(|s| s.artifacts.iter().map(move |a| (HostRef { role: Role::RealServer, name: &s.name }, a)));
        directors.chain(servers)
    }

    /// Pretty JSON with sorted keys and a final newline: the bytes of `index.json`.
    pub fn to_text(&self) -> String {
        to_sorted_text(self)
    }
}

/// A host's role. Its words are said here and nowhere else: index.json's lists, reviews,
/// `--format json` results and lowering's messages all take them from `as_str`.
/// Directors order first, as index.json and reviews list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Director,
    RealServer,
}

impl Role {
    /// `director` or `real server`: how messages, reviews and `--format json` results say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::RealServer => "real server",
        }
    }

    /// A host of this role named `name`, which displays as "real server web1".
    pub fn named(self, name: &str) -> HostRef<'_> {
        HostRef { role: self, name }
    }

    /// `director` or `real-server`: one word, as `probe`'s JSON results say it.
    pub fn token(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::RealServer => "real-server",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host named in the index: its role and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRef<'a> {
    pub role: Role,
    pub name: &'a str,
}

/// "real server web1", "director lvs1".
impl std::fmt::Display for HostRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.role, self.name)
    }
}

/// Pretty JSON with sorted keys (through serde_json's ordered map) and a final newline.
pub fn to_sorted_text(value: &impl Serialize) -> String {
    let value = serde_json::to_value(value).expect("contract types always serialize");
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// One line of compact JSON with sorted keys: a `--format json` result.
pub fn to_sorted_line(value: &impl Serialize) -> String {
    serde_json::to_value(value).expect("contract types always serialize").to_string()
}

// ---------------------------------------------------------------- --format json results

/// A diagnostic, as every `--format json` result carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JsonDiagnostic {
    /// The manifest as the command line named it (`<stdin>`, or `--stdin-filename`);
    /// `null` for a usage or IO failure that concerns no manifest.
    pub file: Option<String>,
    /// `error` or `warning`.
    pub severity: String,
    /// `E0001`…, `W0001`…
    pub code: String,
    /// JSON pointer into the manifest; `""` is the whole document.
    pub path: String,
    /// 1-based; `null` when the value cannot be located.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub message: String,
    /// `null` only for E004x.
    pub hint: Option<String>,
}

/// `check`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub valid: bool,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `compile` (the counts are absent when the manifest is invalid).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CompileResult {
    /// OUT once it holds the compiled tree (even when no file needed writing); `null`
    /// when the manifest is invalid.
    pub written: Option<String>,
    /// Files in the tree, index.json included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<usize>,
    /// How OUT was brought up to date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<WriteMethod>,
    /// Files created or replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_files: Option<usize>,
    /// Files removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_files: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directors: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<usize>,
    /// What could not be cleaned up after the new tree was in place (the compile
    /// succeeded); absent when nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// How `compile` brought OUT up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WriteMethod {
    /// A new tree built beside OUT and swapped in whole (no trusted record of OUT).
    WholeTree,
    /// Only the changed files, through the update journal.
    Update,
    /// Nothing written: OUT already held what the manifest compiles to.
    Unchanged,
}

/// `compile --check` (`changes` absent when the manifest is invalid).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CompileCheckResult {
    /// `null` when the manifest is invalid.
    pub up_to_date: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<ChangeEntry>>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `diff`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DiffResult {
    /// `null` when either manifest is invalid.
    pub changes: Option<Vec<ChangeEntry>>,
    /// What each changed host runs once its new files are installed: directors first,
    /// backups before the primary;
    /// `null` when either manifest is invalid.
    #[serde(default)]
    pub actions: Option<Vec<HostAction>>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// What one host runs to take a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostAction {
    pub host: String,
    /// `director` or `real server`.
    pub role: String,
    /// `apply` (a real server's apply steps), `reload` or `restart` (a director's failover
    /// daemon), `install` (a new host: enable, then start), or `remove` (a host the new
    /// tree no longer has: stop its services and remove its files).
    pub action: String,
    /// Why this action, in the user's terms.
    pub reasons: Vec<String>,
    /// The commands, in order, from the new tree's index.json (none for `remove`): a
    /// director's enable steps only when it is new or a file they act on changed.
    pub steps: Vec<Step>,
}

/// One changed file between two trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeEntry {
    /// The host's name (`web1`); `null` for index.json and files of no host.
    pub host: Option<String>,
    /// `director` or `real server`; `null` with `host`.
    pub role: Option<String>,
    pub path: String,
    /// The artifact id from index.json, when indexed.
    pub artifact: Option<String>,
    /// `added`, `removed`, `modified` or `mode changed`.
    pub change: String,
    pub old_mode: Option<String>,
    pub new_mode: Option<String>,
    /// Unified diff of the contents; empty when only the mode changed.
    pub diff: String,
}

/// `show`: the hosts as index.json will describe them (absent when the manifest is
/// invalid); with `--server`, that host alone.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ShowResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directors: Option<Vec<DirectorEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<RealServerEntry>>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `init`: where the starting manifest was written (`-`: standard output).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InitResult {
    pub written: String,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `render` (the artifact's keys are absent when the manifest is invalid).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RenderResult {
    #[serde(flatten)]
    pub artifact: Option<RenderedArtifact>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RenderedArtifact {
    pub server: String,
    pub artifact: String,
    pub install_path: String,
    pub mode: String,
    pub contents: String,
}

/// `explain`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ExplainResult {
    pub codes: Vec<CodeEntry>,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CodeEntry {
    pub code: String,
    pub severity: String,
    pub title: String,
    pub explanation: String,
}

/// A usage or IO failure (E004x), or a command whose result is only its diagnostics.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct FailureResult {
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `schema`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SchemaResult {
    /// A JSON Schema (draft 2020-12).
    pub schema: serde_json::Value,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `completions`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CompletionsResult {
    /// The completion script.
    pub completions: String,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `man`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ManResult {
    /// The page, in roff.
    pub man: String,
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `probe`: what answered for each VIP on the segment, in one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeResult {
    pub cluster: String,
    /// The interface the probe sent and listened on.
    pub interface: String,
    /// How long it listened after its requests, in milliseconds.
    pub window_ms: u64,
    /// Requests sent (ARP and Neighbour Solicitations) and frames judged.
    pub sent: usize,
    pub received: usize,
    /// `ok` when every VIP is answered by one director and nothing leaks; else the worst of
    /// `unknown`, `down`, `leak` (in that order).
    pub state: ProbeState,
    /// In address order, IPv4 first.
    pub vips: Vec<ProbeVip>,
    /// The manifest's hosts and the MAC each answered from (`null`: no answer).
    pub hosts: Vec<ProbeHost>,
    /// The manifest's warnings.
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// A VIP's state on the segment, and the probe's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeState {
    /// Exactly one answer, from a director's MAC.
    Ok,
    /// One answer, from a MAC that is no host of the manifest (a director whose own address
    /// did not answer, a router's proxy ARP, another cluster).
    Unknown,
    /// No answer: no director holds the VIP.
    Down,
    /// More than one MAC answered, or a real server did, or a host other than a director
    /// sent ARP or Neighbour Discovery with the VIP as its address.
    Leak,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeVip {
    pub address: String,
    /// The services on it.
    pub services: Vec<String>,
    pub state: ProbeState,
    /// Every MAC that answered a request for it (ARP reply, Neighbour Advertisement).
    pub responders: Vec<ProbeResponder>,
    /// MACs other than the answering director's that sent ARP or Neighbour Discovery with
    /// the VIP as their own address during the window (seen passively).
    pub announcers: Vec<ProbeResponder>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ProbeResponder {
    /// `52:54:00:aa:bb:cc`.
    pub mac: String,
    /// The manifest's host with this MAC (learned from its own address's answer), if any.
    pub host: Option<String>,
    /// `director` or `real-server`, with `host`.
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeHost {
    pub name: String,
    /// `director` or `real-server`.
    pub role: String,
    /// Its addresses the probe asked for (IPv4, and IPv6 where it has one).
    pub addresses: Vec<String>,
    pub mac: Option<String>,
}

/// `verify`: a host's installed files (and, on the live host, its units and VIPs) against
/// the tree's index.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyResult {
    pub host: String,
    /// The directory the host's install paths were read under (`/` on the host itself).
    pub root: String,
    /// Every file as the tree says, and, on the live host, every unit enabled and every VIP
    /// up and protected.
    pub ok: bool,
    pub files: Vec<VerifyFile>,
    /// The units `steps.enable` enables (live host, systemd only).
    pub units: Vec<VerifyUnit>,
    /// `vips status --json` of a real server (live host only): `null` elsewhere.
    pub vips: Option<serde_json::Value>,
    /// Always empty: a tree that cannot be read is a failure (E0041).
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyFile {
    /// The artifact's id in index.json.
    pub id: String,
    pub install_path: String,
    pub install: InstallKind,
    /// `ok`, `missing` (no file, or no block of this cluster in it), `changed` (content),
    /// `mode` (content as the tree says, mode not).
    pub state: VerifyState,
    pub expected_mode: String,
    /// `null` when the file is missing.
    pub found_mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerifyState {
    Ok,
    Missing,
    Changed,
    Mode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyUnit {
    pub unit: String,
    /// What `systemctl is-enabled` said (`enabled`, `disabled`, `masked`, ...).
    pub state: String,
    pub ok: bool,
}
