//! The crate's structural invariants, checked on its source: no module cycles, and one
//! home per kind of knowledge (ARCHITECTURE.md lists them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Top-level module → the top-level modules it names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(Path::new(SRC), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(SRC).unwrap();
        let top =
            relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name != top && !name.is_empty() {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn modules_form_no_cycle() {
    let graph = module_graph();
    // Depth-first search for a back edge; report the whole cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("module cycle: {}", cycle.join(" -> "));
        }
    }
    assert!(graph.len() > 10, "the scan found only {} modules", graph.len());
}

#[test]
fn only_the_writer_touches_the_filesystem() {
    // IO lives in the CLI (main.rs and cli/) and the writer; the pipeline's stages are pure.
    let mut files = Vec::new();
    sources(Path::new(SRC), &mut files);
    for file in files {
        let relative = file.strip_prefix(SRC).unwrap();
        if relative == Path::new("main.rs") || relative.starts_with("write") || relative.starts_with("cli") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in ["std::fs", "File::open", "std::process::Command"] {
            assert!(!text.contains(needle), "{} uses {needle}", file.display());
        }
    }
}
