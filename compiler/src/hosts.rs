//! A valid cluster as the command line asks about it: its hosts by name, one host's
//! artifacts rendered, its index entry, and its whole tree. Hosts are planned one at a
//! time, so that asking about one host of a large cluster does not plan them all.

use crate::contract::{DirectorEntry, RealServerEntry, Role};
use crate::diag::did_you_mean;
use crate::model::Cluster;
use crate::plan::{host_count, host_name, plan_host, HostPlan, Placement};
use crate::tree::{self, Tree};

impl Cluster {
    /// Its name, as the manifest gives it.
    pub fn cluster_name(&self) -> &str {
        self.name.as_str()
    }

    pub fn director_count(&self) -> usize {
        self.directors.len()
    }

    pub fn real_server_count(&self) -> usize {
        self.real_servers.len()
    }

    /// Every file the cluster compiles to, index.json included, in memory.
    pub fn tree(&self) -> Tree {
        tree::build(self)
    }

    /// Every host: the directors in manifest order, then the real servers by name.
    pub fn hosts(&self) -> impl Iterator<Item = Host<'_>> {
        (0..host_count(self)).map(|number| Host { cluster: self, number })
    }

    /// The director or real server named `name`.
    pub fn host(&self, name: &str) -> Result<Host<'_>, UnknownHost> {
        self.hosts().find(|host| host.name() == name).ok_or_else(|| UnknownHost {
            name: name.to_owned(),
            hosts: self.hosts().map(|host| host.name().to_owned()).collect(),
        })
    }
}

/// A director or real server of a cluster.
#[derive(Clone, Copy)]
pub struct Host<'c> {
    cluster: &'c Cluster,
    /// Its place among the cluster's hosts, in `plan`'s order.
    number: usize,
}

/// What `Host::entry` describes: index.json's entry for the host.
pub enum HostEntry {
    Director(DirectorEntry),
    RealServer(RealServerEntry),
}

impl<'c> Host<'c> {
    pub fn name(&self) -> &'c str {
        host_name(self.cluster, self.number).as_str()
    }

    pub fn role(&self) -> Role {
        match self.cluster.directors.get(self.number) {
            Some(_) => Role::Director,
            None => Role::RealServer,
        }
    }

    /// Its artifacts, in index.json's order.
    pub fn artifacts(&self) -> Artifacts<'c> {
        Artifacts { cluster: self.cluster, plan: plan_host(self.cluster, self.number) }
    }

    /// Its entry in index.json: facts, VIPs, artifacts and steps. The host's files are
    /// rendered for their checksums.
    pub fn entry(&self) -> HostEntry {
        let host = tree::host(self.cluster, self.number);
        let parsed = match host.role {
            Role::Director => serde_json::from_str(&host.entry).map(HostEntry::Director),
            Role::RealServer => serde_json::from_str(&host.entry).map(HostEntry::RealServer),
        };
        parsed.expect("a host's index entry is its contract type")
    }
}

/// One host's planned artifacts, each rendered on demand.
pub struct Artifacts<'c> {
    cluster: &'c Cluster,
    plan: HostPlan<'c>,
}

/// Where an artifact goes, as index.json says.
pub struct ArtifactPlace<'a> {
    /// Its id: `vips`, `ifcfg-eth0:100`, `keepalived`, ...
    pub id: &'a str,
    /// The path on the host it is installed at.
    pub install_path: &'a str,
    /// Its file mode (`0o644`).
    pub mode: u32,
}

impl Artifacts<'_> {
    /// Every artifact's id, install path and mode.
    pub fn places(&self) -> Vec<ArtifactPlace<'_>> {
        self.plan.placements().into_iter().map(place).collect()
    }

    /// The position of the artifact with the id `wanted`, or of the host's only artifact
    /// of that kind.
    pub fn find(&self, wanted: &str) -> Result<usize, NoSuchArtifact> {
        let placements = self.plan.placements();
        let by_id = placements.iter().position(|a| a.id == wanted);
        let of_kind: Vec<usize> = (0..placements.len()).filter(|&i| placements[i].kind.as_str() == wanted).collect();
        match (by_id, of_kind.as_slice()) {
            (Some(i), _) | (None, &[i]) => Ok(i),
            _ => Err(NoSuchArtifact {
                role: self.plan.role(),
                host: self.plan.name().to_string(),
                wanted: wanted.to_owned(),
                ids: placements.iter().map(|a| a.id.clone()).collect(),
            }),
        }
    }

    /// Where the artifact at `position` goes.
    pub fn place(&self, position: usize) -> ArtifactPlace<'_> {
        place(self.plan.placements()[position])
    }

    /// The artifact at `position`, rendered.
    pub fn render(&self, position: usize) -> String {
        crate::emit::emit(self.cluster, &self.plan, position)
    }

    /// The artifact at `position`, rendered into `out` as it goes: a director's file is
    /// tens of MB in a large cluster.
    pub fn render_into<W: std::fmt::Write>(&self, position: usize, out: &mut W) -> std::fmt::Result {
        crate::emit::emit_into(self.cluster, &self.plan, position, out)
    }
}

fn place(placement: &Placement) -> ArtifactPlace<'_> {
    ArtifactPlace { id: &placement.id, install_path: &placement.install_path, mode: placement.mode }
}

/// `did you mean "web1"? ` when a name is close to `word`, else nothing.
fn suggestion(word: &str, names: &[String]) -> String {
    did_you_mean(word, names.iter().map(String::as_str)).map(|c| format!("did you mean \"{c}\"? ")).unwrap_or_default()
}

/// No director or real server has the name asked for.
#[derive(Debug)]
pub struct UnknownHost {
    name: String,
    /// Every host's name.
    hosts: Vec<String>,
}

impl std::fmt::Display for UnknownHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let close = suggestion(&self.name, &self.hosts);
        write!(
            f,
            "no director or real server \"{}\" in the manifest; {close}(hosts: {})",
            self.name,
            self.hosts.join(", ")
        )
    }
}

impl std::error::Error for UnknownHost {}

/// A host has no artifact of the id asked for, and not exactly one of that kind.
#[derive(Debug)]
pub struct NoSuchArtifact {
    role: Role,
    host: String,
    wanted: String,
    /// Every artifact's id.
    ids: Vec<String>,
}

impl std::fmt::Display for NoSuchArtifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let close = suggestion(&self.wanted, &self.ids);
        let (role, host, wanted) = (self.role, &self.host, &self.wanted);
        write!(f, "{role} {host} has no single artifact \"{wanted}\"; {close}(its artifacts: {})", self.ids.join(", "))
    }
}

impl std::error::Error for NoSuchArtifact {}
