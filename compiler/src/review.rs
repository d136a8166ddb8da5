//! Review: what differs between two output trees, file by file, as unified diffs.
//!
//! `compile --check` compares the tree on disk with the compiled one; `lvsdr diff`
//! compares the trees of two manifests. Both read each tree's `index.json` to name a
//! changed file's host ("real server web1", "director lvs1") and artifact id.

use crate::contract::{ChangeEntry, DirectorEntry, HostAction, HostRef, Index, Role, Step, INDEX_FILE};
use crate::tree::{Tree, TreeFile};
use similar::TextDiff;
use std::collections::BTreeMap;

/// How one file differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Modified,
    /// Same contents, another mode.
    ModeChanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Modified => "modified",
            Change::ModeChanged => "mode changed",
        }
    }
}

/// Whose a changed file is: a host of the index, or the tree itself (index.json, strays).
/// Ordered as reviews list them: directors, real servers (by `Role`'s order), then the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    Host(Role, String),
    Tree,
}

impl Owner {
    /// The host, as the index names it; `None` for the tree.
    pub fn host(&self) -> Option<HostRef<'_>> {
        match self {
            Owner::Host(role, name) => Some(HostRef { role: *role, name }),
            Owner::Tree => None,
        }
    }
}

impl From<HostRef<'_>> for Owner {
    fn from(host: HostRef<'_>) -> Owner {
        Owner::Host(host.role, host.name.to_owned())
    }
}

/// "real server web1", "director lvs1", "the tree": how people read it.
impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.host() {
            Some(host) => host.fmt(f),
            None => f.write_str("the tree"),
        }
    }
}

/// One changed file, with what the indexes say about it.
#[derive(Debug)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
    /// Its host, or the tree for index.json and strays.
    pub host: Owner,
    /// The artifact id from index.json (`rc-local`, `keepalived`, ...), when indexed.
    pub artifact: Option<String>,
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
    /// The unified diff of the contents; empty when only the mode changed.
    pub diff: String,
}

/// Every difference from `old` to `new`, sorted by host then path. `with_index` keeps
/// index.json itself among the compared files.
pub fn compare(old: &Tree, new: &Tree, with_index: bool) -> Vec<FileChange> {
    let mut names = describe(old);
    names.extend(describe(new));
    let mut changes = compare_named(old, new, with_index, |path| names.get(path).cloned());
    sort(&mut changes);
    changes
}

/// Sorts changes as reviews show them: by host, then path.
pub(crate) fn sort(changes: &mut [FileChange]) {
    changes.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
}

/// Every difference from `old` to `new`, unsorted, naming each changed file's host and
/// artifact with `names` (`the tree` when it does not know the path).
pub(crate) fn compare_named(
    old: &Tree,
    new: &Tree,
    with_index: bool,
    names: impl Fn(&str) -> Option<(Owner, Option<String>)>,
) -> Vec<FileChange> {
    let mut changes = Vec::new();
    let paths: std::collections::BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    for path in paths {
        if path == INDEX_FILE && !with_index {
            continue;
        }
        let (before, after) = (old.files.get(path), new.files.get(path));
        let change = match (before, after) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(a), Some(b)) if a.contents != b.contents => Change::Modified,
            (Some(a), Some(b)) if a.mode != b.mode => Change::ModeChanged,
            _ => continue,
        };
        let (host, artifact) = names(path).unwrap_or((Owner::Tree, None));
        changes.push(FileChange {
            path: path.clone(),
            change,
            host,
            artifact,
            old_mode: before.map(|f| f.mode),
            new_mode: after.map(|f| f.mode),
            diff: unified(path, before, after),
        });
    }
    changes
}

/// Names the changes that `compare_named` could not with what `index` says.
pub(crate) fn name_from(index: &crate::contract::Index, changes: &mut [FileChange]) {
    let names: BTreeMap<&str, (HostRef<'_>, &str)> =
        index.artifacts().map(|(host, artifact)| (artifact.path.as_str(), (host, artifact.id.as_str()))).collect();
    for change in changes.iter_mut().filter(|c| c.host == Owner::Tree) {
        if let Some((host, id)) = names.get(change.path.as_str()) {
            change.host = Owner::from(*host);
            change.artifact = Some((*id).to_owned());
        }
    }
}

/// Path → (host, artifact id), from the tree's own index.json.
fn describe(tree: &Tree) -> BTreeMap<String, (Owner, Option<String>)> {
    let Some(index) = tree.index() else { return BTreeMap::new() };
    index
        .artifacts()
        .map(|(host, artifact)| (artifact.path.clone(), (Owner::from(host), Some(artifact.id.clone()))))
        .collect()
}

fn unified(path: &str, before: Option<&TreeFile>, after: Option<&TreeFile>) -> String {
    let old = before.map_or("", |f| f.contents.as_str());
    let new = after.map_or("", |f| f.contents.as_str());
    if old == new {
        return String::new();
    }
    let old_name = if before.is_some() { format!("a/{path}") } else { "/dev/null".into() };
    let new_name = if after.is_some() { format!("b/{path}") } else { "/dev/null".into() };
    TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(&old_name, &new_name).to_string()
}

/// The changes for people: one heading per host, then each file's change and diff.
pub fn human(changes: &[FileChange]) -> String {
    render(changes, false)
}

fn render(changes: &[FileChange], color: bool) -> String {
    let paint = |code: &str, text: &str| match color {
        true => format!("\x1b[{code}m{text}\x1b[0m"),
        false => text.to_owned(),
    };
    let mut out = String::new();
    let mut last_host = None;
    for c in changes {
        if last_host != Some(&c.host) {
            out += &paint("1", &format!("{}:", c.host));
            out.push('\n');
            last_host = Some(&c.host);
        }
        let what = c.artifact.as_deref().map(|id| format!(" (artifact {id})")).unwrap_or_default();
        let modes = match (c.old_mode, c.new_mode) {
            (Some(a), Some(b)) if a != b => format!(", mode {a:04o} -> {b:04o}"),
            _ => String::new(),
        };
        out += &paint("1", &format!("  {} {}{what}{modes}", c.change.as_str(), c.path));
        out.push('\n');
        if color {
            for line in c.diff.split_inclusive('\n') {
                let (text, end) = line.strip_suffix('\n').map_or((line, ""), |t| (t, "\n"));
                let code = match text.as_bytes().first() {
                    _ if text.starts_with("+++") || text.starts_with("---") => "1",
                    Some(b'@') => "36",
                    Some(b'+') => "32",
                    Some(b'-') => "31",
                    _ => "",
                };
                out += &if code.is_empty() { text.to_owned() } else { paint(code, text) };
                out += end;
            }
        } else {
            out += &c.diff;
        }
        if !c.diff.is_empty() && !c.diff.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `human`, coloured as `git diff` colours on a terminal: hosts and file headers bold,
/// hunk headers cyan, removed lines red, added lines green.
pub fn human_colored(changes: &[FileChange]) -> String {
    render(changes, true)
}

/// The changes for machines.
pub fn entries(changes: &[FileChange]) -> Vec<ChangeEntry> {
    changes
        .iter()
        .map(|c| ChangeEntry {
            path: c.path.clone(),
            change: c.change.as_str().to_owned(),
            host: c.host.host().map(|h| h.name.to_owned()),
            role: c.host.host().map(|h| h.role.as_str().to_owned()),
            artifact: c.artifact.clone(),
            old_mode: c.old_mode.map(|m| format!("{m:04o}")),
            new_mode: c.new_mode.map(|m| format!("{m:04o}")),
            diff: c.diff.clone(),
        })
        .collect()
}

/// What each host whose files changed runs to take the change, from the two trees'
/// indexes: directors first (backups before the primary, as a restart must go; removed
/// ones last), then real servers by name.
pub fn actions(old: &Tree, new: &Tree, changes: &[FileChange]) -> Vec<HostAction> {
    let (Some(old_index), Some(new_index)) = (old.index(), new.index()) else { return Vec::new() };
    let changed = |host: &Owner| changes.iter().any(|c| &c.host == host);
    let mut actions = Vec::new();
    for d in new_index.directors.iter().rev() {
        let owner = Owner::Host(Role::Director, d.name.clone());
        if !changed(&owner) {
            continue;
        }
        let before = old_index.directors.iter().find(|o| o.name == d.name);
        let (action, mut reasons) = director_action(&old_index, before, &new_index, d);
        let then = match action {
            "reload" => &d.steps.reload,
            _ => &d.steps.restart,
        };
        // The enable steps (keepalived at boot, the IPVS modules, firewalld's service) run
        // on a new director and when a file they act on changed; a change to the failover
        // configuration alone needs only the reload or restart. A changed file's kind is
        // in whichever tree has it.
        let kind = |path: &str| {
            before.into_iter().chain([d]).flat_map(|h| &h.artifacts).find(|a| a.path == path).map(|a| a.kind)
        };
        let enabling: Vec<&str> = changes
            .iter()
            .filter(|c| c.host == owner && kind(&c.path).is_none_or(crate::director_steps::enable_steps_act_on))
            .filter_map(|c| c.artifact.as_deref())
            .collect();
        let enable: &[Step] = if before.is_none() || !enabling.is_empty() { &d.steps.enable } else { &[] };
        if before.is_some() && !enabling.is_empty() {
            reasons.push(format!("its enable steps run again: {} changed", enabling.join(", ")));
        }
        if enable.iter().any(|step| step.argv.iter().any(|a| a == "--reload")) {
            reasons.push(
                "firewalld drops new connections to the director while it reloads (its ReloadPolicy; established ones go on): on the primary, clients wait for their SYN's retry"
                    .to_owned(),
            );
        }
        actions.push(HostAction {
            host: d.name.clone(),
            role: Role::Director.as_str().to_owned(),
            action: action.to_owned(),
            reasons,
            steps: enable.iter().chain(then).cloned().collect(),
        });
    }
    for d in old_index.directors.iter().filter(|o| !new_index.directors.iter().any(|n| n.name == o.name)) {
        actions.push(HostAction {
            host: d.name.clone(),
            role: Role::Director.as_str().to_owned(),
            action: "remove".to_owned(),
            reasons: vec![format!(
                "the new tree has no {}: stop its {} and remove its files",
                Role::Director.named(&d.name),
                old_index.failover.software
            )],
            steps: Vec::new(),
        });
    }
    let mut servers: Vec<HostAction> = Vec::new();
    for s in &new_index.servers {
        if !changed(&Owner::Host(Role::RealServer, s.name.clone())) {
            continue;
        }
        let new_host = !old_index.servers.iter().any(|o| o.name == s.name);
        servers.push(HostAction {
            host: s.name.clone(),
            role: Role::RealServer.as_str().to_owned(),
            action: if new_host { "install" } else { "apply" }.to_owned(),
            reasons: vec![if new_host {
                format!("a new {}: its steps enable the boot and bring the VIPs up behind their lock", Role::RealServer)
            } else {
                "its apply steps retire the VIPs that leave, load the new lock, then bring the VIPs up behind it"
                    .to_owned()
            }],
            steps: s.steps.enable.iter().chain(&s.steps.apply).cloned().collect(),
        });
    }
    for s in old_index.servers.iter().filter(|o| !new_index.servers.iter().any(|n| n.name == o.name)) {
        servers.push(HostAction {
            host: s.name.clone(),
            role: Role::RealServer.as_str().to_owned(),
            action: "remove".to_owned(),
            reasons: vec![format!(
                "the new tree has no {}: run its old tree's `{} down` and `{} unload` (VIPs first, then the lock), then remove its files",
                Role::RealServer.named(&s.name),
                crate::boot::VIPS_SCRIPT,
                crate::boot::VIPS_SCRIPT
            )],
            steps: Vec::new(),
        });
    }
    servers.sort_by(|a, b| a.host.cmp(&b.host));
    actions.extend(servers);
    actions
}

/// Reload or restart for a director whose files changed, and why.
fn director_action(
    old_index: &Index,
    before: Option<&DirectorEntry>,
    new_index: &Index,
    d: &DirectorEntry,
) -> (&'static str, Vec<String>) {
    let Some(before) = before else {
        return (
            "install",
            vec![format!("a new {}: enable {} and start it", Role::Director, new_index.failover.software)],
        );
    };
    if old_index.failover.software != new_index.failover.software {
        return (
            "restart",
            vec![format!(
                "the failover software changes from {} to {}",
                old_index.failover.software, new_index.failover.software
            )],
        );
    }
    if new_index.failover.software == "piranha" {
        return ("restart", vec!["pulse reads lvs.cf only when it starts".to_owned()]);
    }
    let mut reasons = Vec::new();
    match (&before.vrrp, &d.vrrp) {
        (Some(a), Some(b)) => {
            let mut differs = |what: &str, x: String, y: String| {
                if x != y {
                    reasons.push(format!("VRRP {what}: {x} -> {y}"));
                }
            };
            differs("instances", a.instances.join(", "), b.instances.join(", "));
            differs("router id", a.router_id.to_string(), b.router_id.to_string());
            differs("initial state", a.state.clone(), b.state.clone());
            differs("priority", a.priority.to_string(), b.priority.to_string());
            differs("advert_int", a.advert_int.to_string(), b.advert_int.to_string());
            differs("unicast sources", list_or_none(&a.unicast_sources), list_or_none(&b.unicast_sources));
            differs("unicast peers", list_or_none(&a.unicast_peers), list_or_none(&b.unicast_peers));
            differs("preemption", a.preempt.clone(), b.preempt.clone());
            differs("tracked interfaces", list_or_none(&a.track_interfaces), list_or_none(&b.track_interfaces));
            differs(
                "notify script",
                a.notify.clone().unwrap_or("none".into()),
                b.notify.clone().unwrap_or("none".into()),
            );
        }
        (a, b) if a != b => reasons.push("its VRRP instance appears or goes".to_owned()),
        _ => {}
    }
    if before.interface != d.interface {
        reasons.push(format!("its interface changes: {} -> {}", before.interface, d.interface));
    }
    if reasons.is_empty() {
        (
            "reload",
            vec!["keepalived reloads virtual servers, real servers, checks and the VIP list in place, with no VRRP transition".to_owned()],
        )
    } else {
        reasons.push(
            "a reload would re-create the VRRP instance on each director at its own moment, and directors that disagree on it do not hear each other: restart the backups first, then the primary"
                .to_owned(),
        );
        ("restart", reasons)
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The actions for people: each host, its action and why, and the commands.
pub fn human_actions(actions: &[HostAction]) -> String {
    let mut out = String::new();
    if actions.is_empty() {
        return out;
    }
    out += "\nTo take the change, once the new files are installed:\n";
    for a in actions {
        out += &format!("  {} {}: {}\n", a.role, a.host, a.action);
        for reason in &a.reasons {
            out += &format!("    because {reason}\n");
        }
        for step in &a.steps {
            out += &format!("    $ {step}\n");
        }
    }
    out
}
