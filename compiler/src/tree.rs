//! The output tree: each host's files and `index.json` entry, rendered one host at a time,
//! and `index.json` assembled from those entries in order; or the whole tree in memory.
//!
//! Rendering host by host, each file into a `Sink` as it renders, is what keeps a large
//! cluster's memory bounded by its manifest: the writer holds at most a megabyte of a file
//! (a director's configuration lists every membership: docs/benchmarks.md's clusters give
//! the sizes) and streams `index.json`.

// A new platform, dialect or role must not compile until every match handles it.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::contract::CONFIG_MODE;
use crate::contract::{
    to_sorted_text, ArtifactEntry, BlockMarkers, DirectorEntry, FailoverEntry, Index, MemberEntry, RealServerEntry,
    Role, ServiceEntry, VipEntry, GENERATOR, INDEX_FILE, TREE_FORMAT,
};
use crate::digest::sha256_hex;
use crate::emit::{emit, emit_into};
use crate::model::{Cluster, ServedVip};
use crate::plan::{host_count, plan_host, HostPlan};
use std::collections::BTreeMap;

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub mode: u32,
    pub contents: String,
}

/// The whole output tree: relative path → file, sorted by path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, TreeFile>,
}

impl Tree {
    /// The tree's own `index.json`, when it has one that parses.
    pub fn index(&self) -> Option<Index> {
        serde_json::from_str(&self.files.get(INDEX_FILE)?.contents).ok()
    }
}

/// One file of a host held in memory, with what the index calls it.
#[derive(Debug)]
pub struct HostFile {
    /// Path in the tree: `<host>/...`.
    pub path: String,
    /// The artifact id (`vips`, `keepalived`, `ifcfg-eth0:100`).
    pub id: String,
    pub file: TreeFile,
    /// SHA-256 of its contents, in hex, as in the index.
    pub sha256: String,
}

/// One host's part of the tree; `F` is what its sink kept of each file.
#[derive(Debug)]
pub struct HostOutput<F = HostFile> {
    /// Decides its place in `index.json`: directors first.
    pub role: Role,
    /// The host's name, which is also its directory in the tree.
    pub name: String,
    /// Its files, in plan order.
    pub files: Vec<F>,
    /// Its entry in `index.json`: pretty JSON with sorted keys, indented to its place in
    /// the index, without a final newline.
    pub entry: String,
}

/// Where a host's files go as they are rendered: memory (`InMemory`), a staging
/// directory, or a comparison with the tree on disk. A director's files are tens of MB in a
/// large cluster; a sink that writes or compares them as they render never holds one whole.
pub trait Sink {
    /// What the sink gives back for each file.
    type File;
    type Error;
    /// Takes `file`, whose text `contents` renders (as often as the sink needs); returns
    /// the text's SHA-256 in hex, for the index, and what the caller keeps of the file.
    fn put(&mut self, file: &Placed<'_>, contents: &Contents<'_>) -> Result<(String, Self::File), Self::Error>;
}

/// A file's place: its host's number, its position among the host's files, its path in
/// the tree, its artifact id and its mode.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    pub host: usize,
    pub position: usize,
    pub path: &'a str,
    pub id: &'a str,
    pub mode: u32,
}

/// A file's text, rendered on request.
pub struct Contents<'a> {
    cluster: &'a Cluster,
    plan: &'a HostPlan<'a>,
    position: usize,
}

impl Contents<'_> {
    /// Writes the text into `out` as it renders; fails only when `out` does.
    pub fn render_into<W: std::fmt::Write>(&self, out: &mut W) -> std::fmt::Result {
        emit_into(self.cluster, self.plan, self.position, out)
    }

    /// The whole text.
    pub fn render(&self) -> String {
        emit(self.cluster, self.plan, self.position)
    }
}

/// The sink of `host`: every file rendered whole into memory.
pub struct InMemory;

impl Sink for InMemory {
    type File = HostFile;
    type Error = std::convert::Infallible;

    fn put(&mut self, file: &Placed<'_>, contents: &Contents<'_>) -> Result<(String, HostFile), Self::Error> {
        let contents = contents.render();
        let sha256 = sha256_hex(&contents);
        let path = file.path.to_owned();
        let kept = HostFile { path, id: file.id.to_owned(), file: TreeFile { mode: file.mode, contents }, sha256 };
        Ok((kept.sha256.clone(), kept))
    }
}

/// How many hosts `host` can be asked for: directors first, then real servers by name.
pub fn hosts(cluster: &Cluster) -> usize {
    host_count(cluster)
}

/// How many of the first hosts are directors: their files list every membership, so they
/// are the slow ones to render in a large cluster.
pub fn directors(cluster: &Cluster) -> usize {
    cluster.directors.len()
}

/// Plans, renders and indexes the `n`th host, in memory.
pub fn host(cluster: &Cluster, n: usize) -> HostOutput {
    match host_into(cluster, n, &mut InMemory) {
        Ok(host) => host,
        Err(never) => match never {},
    }
}

/// Plans the `n`th host, renders each of its files into `sink`, and indexes it.
pub fn host_into<S: Sink>(cluster: &Cluster, n: usize, sink: &mut S) -> Result<HostOutput<S::File>, S::Error> {
    let host_plan = plan_host(cluster, n);
    let mut files = Vec::new();
    let mut artifacts = Vec::new();
    for (position, placement) in host_plan.placements().into_iter().enumerate() {
        let path = placement.tree_path(host_plan.name());
        let placed = Placed { host: n, position, path: &path, id: &placement.id, mode: placement.mode };
        let (sha256, kept) = sink.put(&placed, &Contents { cluster, plan: &host_plan, position })?;
        artifacts.push(ArtifactEntry {
            id: placement.id.clone(),
            kind: placement.kind,
            path,
            install_path: placement.install_path.clone(),
            install: placement.install,
            mode: format!("{:04o}", placement.mode),
            sha256,
            activate: placement.activate.clone(),
        });
        files.push(kept);
    }
    let (role, name, entry) = match host_plan {
        HostPlan::RealServer(server, _) => (
            Role::RealServer,
            server.name.to_string(),
            to_sorted_text(&RealServerEntry {
                name: server.name.to_string(),
                address: server.address.to_string(),
                address6: server.address6.map(|net| net.to_string()),
                interface: server.interface.to_string(),
                platform: server.platform.to_string(),
                arp_suppression: server.suppression.to_string(),
                vip_device: server.vip_device.as_str().to_owned(),
                network_stack: server.network_stack.to_string(),
                steps: crate::boot::steps(server),
                vips: vip_entries(&server.vips),
                artifacts,
            }),
        ),
        HostPlan::Director(director, _) => (
            Role::Director,
            director.name.to_string(),
            to_sorted_text(&DirectorEntry {
                name: director.name.to_string(),
                address: director.address.to_string(),
                address6: director.address6.map(|net| net.to_string()),
                interface: director.interface.to_string(),
                platform: director.platform.to_string(),
                firewall: director.firewall.to_string(),
                steps: crate::director_steps::steps(cluster, director),
                vrrp: crate::director_steps::vrrp(cluster, director),
                vips: vip_entries(&director.vips),
                artifacts,
            }),
        ),
    };
    Ok(HostOutput { role, name, files, entry: indent_entry(&entry) })
}

/// An entry's pretty JSON at depth 0, moved to its depth in the index (an item of a list
/// that is a member of the top object). JSON strings hold no raw line feed, so indenting
/// every line is exact.
fn indent_entry(entry: &str) -> String {
    let entry = entry.trim_end_matches('\n');
    let mut indented = String::with_capacity(entry.len() + entry.len() / 8);
    for (i, line) in entry.split('\n').enumerate() {
        if i > 0 {
            indented.push('\n');
        }
        indented.push_str(INDEX_ITEM_INDENT);
        indented.push_str(line);
    }
    indented
}

const INDEX_ITEM_INDENT: &str = "    ";

/// Assembles `index.json` from host entries given in plan order, handing out its text
/// piece by piece, so that the index is never whole in memory. Its bytes are those of
/// `Index::to_text` for the same cluster.
pub struct IndexWriter {
    frame: IndexFrame,
    directors: usize,
    servers: usize,
}

/// The lists `IndexWriter` streams, in the order of their keys in index.json (its keys
/// are sorted).
const STREAMED_LISTS: [&str; 3] = ["directors", "servers", "services"];

/// index.json's text around the lists `IndexWriter` streams, each piece serde's own bytes.
///
/// Made from the index without its lists, as a `serde_json::Value` in which each streamed
/// list is replaced by a marker string, serialized as `Index::to_text` serializes; the
/// text is cut at the markers. A marker holds a NUL, which no value of a valid cluster
/// can (names, addresses and keywords are printable), and each is checked to occur
/// exactly once. So the pieces are the bytes serde writes around the lists, and a
/// streamed list, written from `[` to `]` as `to_string_pretty` would write it at that
/// depth, gives the bytes of `Index::to_text`.
struct IndexFrame {
    /// Each list's piece before it: from after the previous list's `]` (or the start)
    /// to the list's opening `[`.
    before: [String; 3],
    /// After the last list's `]`.
    after: String,
}

impl IndexFrame {
    fn of(cluster: &Cluster) -> IndexFrame {
        let marker = |list: &str| format!("\0{list}");
        let mut value = serde_json::to_value(index_without_hosts(cluster)).expect("contract types always serialize");
        for list in STREAMED_LISTS {
            let slot = value.get_mut(list).expect("the index has each streamed list");
            *slot = serde_json::Value::String(marker(list));
        }
        let text = to_sorted_text(&value);
        let mut before = Vec::with_capacity(STREAMED_LISTS.len());
        let mut rest = text.as_str();
        for list in STREAMED_LISTS {
            let quoted = serde_json::to_string(&marker(list)).expect("a string always serializes");
            assert_eq!(text.matches(&quoted).count(), 1, "the {list} marker occurs once");
            let (head, tail) = rest.split_once(&quoted).expect("the lists' markers occur in the order of their keys");
            before.push(format!("{head}["));
            rest = tail;
        }
        let after = rest.to_owned();
        IndexFrame { before: before.try_into().expect("one piece per list"), after }
    }
}

impl IndexWriter {
    /// Starts the index; `out` receives its first piece.
    pub fn new(cluster: &Cluster, out: &mut impl FnMut(&str)) -> IndexWriter {
        let writer = IndexWriter { frame: IndexFrame::of(cluster), directors: 0, servers: 0 };
        out(&writer.frame.before[0]);
        writer
    }

    /// Adds the next host's entry. Directors come before every real server.
    pub fn entry(&mut self, role: Role, entry: &str, out: &mut impl FnMut(&str)) {
        match role {
            Role::Director => {
                debug_assert_eq!(self.servers, 0, "directors come first");
                out(if self.directors == 0 { "\n" } else { ",\n" });
                self.directors += 1;
            }
            Role::RealServer => {
                if self.servers == 0 {
                    self.close_directors(out);
                    out("\n");
                } else {
                    out(",\n");
                }
                self.servers += 1;
            }
        }
        out(entry);
    }

    fn close_directors(&mut self, out: &mut impl FnMut(&str)) {
        if self.directors > 0 {
            out("\n  ");
        }
        out("]");
        out(&self.frame.before[1]);
    }

    /// Ends the index with the cluster's services: `out` receives the rest.
    pub fn finish(mut self, cluster: &Cluster, out: &mut impl FnMut(&str)) {
        if self.servers == 0 {
            self.close_directors(out);
        } else {
            out("\n  ");
        }
        out("]");
        out(&self.frame.before[2]);
        for (i, service) in cluster.services.iter().enumerate() {
            out(if i == 0 { "\n" } else { ",\n" });
            out(&indent_entry(&to_sorted_text(&service_entry(service))));
        }
        if !cluster.services.is_empty() {
            out("\n  ");
        }
        out("]");
        out(&self.frame.after);
    }
}

/// Plans, renders and indexes every host into a tree in memory.
pub fn build(cluster: &Cluster) -> Tree {
    let mut tree = Tree::default();
    let mut index = String::new();
    let mut append = |piece: &str| index.push_str(piece);
    let mut writer = IndexWriter::new(cluster, &mut append);
    for n in 0..hosts(cluster) {
        let host = host(cluster, n);
        writer.entry(host.role, &host.entry, &mut append);
        for HostFile { path, file, .. } in host.files {
            tree.files.insert(path, file);
        }
    }
    writer.finish(cluster, &mut append);
    tree.files.insert(INDEX_FILE.to_owned(), TreeFile { mode: CONFIG_MODE, contents: index });
    tree
}

/// The index with every field but the host and service lists, which `IndexWriter` streams.
fn index_without_hosts(cluster: &Cluster) -> Index {
    Index {
        generator: GENERATOR.to_owned(),
        format: TREE_FORMAT,
        cluster: cluster.name.to_string(),
        block_markers: BlockMarkers::of(cluster.name.as_str()),
        servers: Vec::new(),
        directors: Vec::new(),
        failover: FailoverEntry { software: cluster.failover.to_string(), vrrp_router_id: cluster.vrrp.router_id },
        services: Vec::new(),
    }
}

fn service_entry(s: &crate::model::Service) -> ServiceEntry {
    ServiceEntry {
        name: s.name.to_string(),
        vip: s.vip.to_string(),
        protocol: s.protocol.to_string(),
        port: s.ports.ipvs_port(),
        ports: s.ports.marked().map(|m| m.ranges.iter().map(|r| r.to_string()).collect()).unwrap_or_default(),
        firewall_mark: s.ports.marked().map(|m| m.mark),
        scheduler: s.scheduler.to_string(),
        persistence: s.persistence,
        real_servers: s
            .members
            .iter()
            .map(|m| MemberEntry { server: m.server.to_string(), weight: m.weight })
            .collect(),
    }
}

fn vip_entries(vips: &[ServedVip]) -> Vec<VipEntry> {
    vips.iter()
        .map(|vip| VipEntry {
            address: vip.address.to_string(),
            label: vip.label.as_ref().map(|l| l.to_string()),
            services: vip.services.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}
