//! The crate's structural invariants, checked on its source: no module cycles (between
//! top-level modules, and between the submodules of each folder), IO only at the edges
//! (ARCHITECTURE.md lists them), and a host-check for every kind of artifact.

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

/// A cycle in `graph`, as its nodes from the first back to it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_form_no_cycle() {
    let graph = module_graph();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
    assert!(graph.len() > 10, "the scan found only {} modules", graph.len());
}

/// The names a path names after `prefix` (`super::` or `crate::lower::`): `hosts` in
/// `super::hosts::Lowered`, and `disk` and `io` in `super::{disk, io}`.
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let word = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices(prefix) {
        // Not the tail of a longer path (`super::super::`, `other::super::`).
        if text[..i].ends_with("::") {
            continue;
        }
        let rest = &text[i + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let (mut depth, mut start) = (0, 0);
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            names.insert(word(group[start..j].trim_start()));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.insert(word(group[start..j].trim_start()));
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => {
                names.insert(word(rest));
            }
        }
    }
    names
}

/// Within each folder of modules (`lower/`, `write/`, `cli/`, ...): submodule → the
/// sibling submodules it names through `super::` or the folder's `crate::` path. A
/// submodule that is itself a folder counts as one node with everything in it.
fn folder_graphs() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    sources(Path::new(SRC), &mut files);
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(SRC).unwrap();
        let parts: Vec<String> =
            relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
        let text = std::fs::read_to_string(file).unwrap();
        // Every folder that holds this file, at any depth.
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            let node = &parts[depth];
            if node == "mod" {
                continue;
            }
            let children: BTreeSet<String> = files
                .iter()
                .filter_map(|f| f.strip_prefix(Path::new(SRC).join(&folder)).ok())
                .map(|rest| rest.iter().next().unwrap().to_string_lossy().trim_end_matches(".rs").to_owned())
                .filter(|child| child != "mod")
                .collect();
            let mut named = names_after(&text, &format!("crate::{}::", parts[..depth].join("::")));
            // `super::` is this folder from its files and from its subfolders' mod.rs.
            let super_is_folder = parts.len() == depth + 1 || (parts.len() == depth + 2 && parts[depth + 1] == "mod");
            if super_is_folder {
                named.extend(names_after(&text, "super::"));
            }
            let deps = graphs.entry(folder).or_default().entry(node.clone()).or_default();
            deps.extend(named.into_iter().filter(|name| name != node && children.contains(name)));
        }
    }
    graphs
}

#[test]
fn submodules_form_no_cycle() {
    let graphs = folder_graphs();
    for (folder, graph) in &graphs {
        if let Some(cycle) = find_cycle(graph) {
            panic!("module cycle in {folder}/: {}", cycle.join(" -> "));
        }
    }
    for folder in ["cli", "dialect", "emit", "lower", "write"] {
        assert!(graphs.get(folder).is_some_and(|g| g.len() > 1), "the scan found no submodules of {folder}/");
    }
    // The scan sees the edges it must: lowering's passes name their shared parts.
    assert!(graphs["lower"]["hosts"].contains("entry"), "{:?}", graphs["lower"]);
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

/// The hand-written pages name the whole range of releases as the platform table has it:
/// "`el4` … `el10`", "el4–el10", "el4 to el10" and "seven RHEL-family releases" change
/// with the table or fail here (the generated pages are generated from it). A range
/// from the first release to the one before the last is taken for a stale whole range.
#[test]
fn prose_names_the_releases_the_table_has() {
    use lvsdr::testing::Platform;
    let n = Platform::ALL.len();
    let (first, penultimate, last) =
        (Platform::ALL[0].to_string(), Platform::ALL[n - 2].to_string(), Platform::ALL[n - 1].to_string());
    let count =
        ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
            [Platform::ALL.len()];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pages = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        // docs/manifest.md and docs/commands.md are generated.
        if path.extension().is_some_and(|e| e == "md")
            && !["manifest.md", "commands.md"].iter().any(|g| path.ends_with(g))
        {
            pages.push(path);
        }
    }
    let mut wrong = Vec::new();
    let mut ranges = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for (i, _) in text.match_indices(&*first) {
            // A range from the first release: up to three marks, a joiner, up to three marks.
            let rest = &text[i + first.len()..];
            let rest = rest.trim_start_matches(['`', '*']);
            let after = ["…", "–", " to ", " ... "].iter().find_map(|joiner| {
                rest.trim_start()
                    .strip_prefix(joiner.trim_start())
                    .map(|r| r.trim_start().trim_start_matches(['`', '*']))
            });
            let Some(after) = after else { continue };
            let end: String = after.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            // A range that ends one release short of the table's last is one written before
            // that release came (a part of the table, el4–el6, is another matter).
            if end.starts_with("el") {
                ranges += 1;
                if end == penultimate || !Platform::ALL.iter().any(|p| p.to_string() == end) {
                    wrong.push(format!("{}: {first} … {end}", page.display()));
                }
            }
        }
        for (i, _) in text.match_indices(" RHEL-family releases") {
            let word = text[..i].rsplit(' ').next().unwrap_or_default();
            if word != count {
                wrong.push(format!("{}: \"{word} RHEL-family releases\", the table has {count}", page.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "prose names another range of releases than the table ({first} … {last}): {wrong:?}");
    assert!(ranges > 0, "the scan found no range of releases: it checks nothing");
}

/// The kinds `KIND_CHECKS` in scripts/harness/artifacts.py has a row for, in order: each
/// row starts a line of the table with the kind in double quotes.
fn harness_kinds() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/harness/artifacts.py");
    let text = std::fs::read_to_string(path).unwrap();
    let table = text.split_once("\nKIND_CHECKS = {\n").expect("artifacts.py has KIND_CHECKS = {").1;
    let table = table.split_once("\n}\n").expect("KIND_CHECKS ends with a line `}`").0;
    table
        .lines()
        .filter_map(|line| line.strip_prefix("    \""))
        .filter_map(|row| row.split_once("\":").map(|(kind, _)| kind.to_owned()))
        .collect()
}

#[test]
fn every_artifact_kind_has_a_host_check() {
    // A kind host-check does not know would go onto hosts with only its mode and checksum
    // checked: each must have a row of content checks, and each row must be a kind lvsdr writes.
    let rows = harness_kinds();
    let harness: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(harness.len(), rows.len(), "a kind has two rows in KIND_CHECKS (Python keeps the last): {rows:?}");
    let kinds: BTreeSet<&str> = lvsdr::contract::ArtifactKind::ALL.iter().map(|kind| kind.as_str()).collect();
    let unchecked: Vec<&&str> = kinds.difference(&harness).collect();
    assert!(unchecked.is_empty(), "no row in KIND_CHECKS (scripts/harness/artifacts.py) for {unchecked:?}");
    let unknown: Vec<&&str> = harness.difference(&kinds).collect();
    assert!(unknown.is_empty(), "KIND_CHECKS has rows for kinds lvsdr does not write: {unknown:?}");
}
