//! Data-driven fixture tests: one test per manifest in `fixtures/`, one snapshot each.
//!
//! - `fixtures/example.json` and `fixtures/valid/*.json` must compile; the snapshot is the
//!   whole output tree as written to disk (every file with its path and mode, index.json
//!   included), preceded by any warnings.
//!   `.yaml`/`.yml` fixtures are YAML manifests; one whose first line is `# twin: PATH`
//!   must compile to exactly PATH's tree.
//! - `fixtures/invalid/*.json` (and `.yaml`) must fail; the snapshot is the human report and the JSON.
//! - `fixtures/diff/NAME/{old,new}.json` must both compile; the snapshot is what
//!   `lvsdr diff old.json new.json` prints, human and JSON.
//! - Every diagnostic code is produced by at least one fixture.
//! - `lvsdr schema` rejects exactly the fixtures with structural errors.
//!
//! Adding a case means adding a file. Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test` and review them with `git diff snapshots/`.

use libtest_mimic::{Arguments, Failed, Trial};
use lvsdr::report::Style;
use lvsdr::{has_errors, Code};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

fn manifests(dir: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join(dir))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| {
        p.extension().is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
            || p.to_string_lossy().ends_with(".json.gz")
    });
    found.sort();
    found
}

/// Analyses a fixture's bytes in the syntax its name says (`.yaml`/`.yml`: YAML).
fn check_fixture(path: &Path, bytes: &[u8]) -> lvsdr::Checked {
    let syntax = lvsdr::Syntax::of_file_name(&path.to_string_lossy());
    lvsdr::check_bytes_within(bytes, lvsdr::MAX_MANIFEST_BYTES, syntax)
}

/// The name a fixture goes by in test names, snapshots and reports: `valid/two-directors.json`.
fn display_name(path: &Path) -> String {
    path.strip_prefix(FIXTURES).unwrap_or(path).display().to_string()
}

fn snapshot(name: &str, contents: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, contents));
}

fn guarded(run: impl FnOnce() -> Result<(), String> + std::panic::UnwindSafe) -> Result<(), Failed> {
    match std::panic::catch_unwind(run) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(message.into()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into())
            .into()),
    }
}

/// Compiles a valid fixture through the real writer and renders the tree it wrote.
fn valid_case(path: &Path) -> Result<(), String> {
    let name = display_name(path);
    let bytes = read_fixture(path)?;
    let checked = check_fixture(path, &bytes);
    let Some(cluster) = &checked.cluster else {
        return Err(format!("{name} should be valid:\n{}", checked.human(&name, Style { color: false })));
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures").join(name.replace('/', "__")).join("out");
    let _ = std::fs::remove_dir_all(&out);
    let tree = cluster.tree();
    // A fixture whose first line is `# twin: PATH` (a YAML manifest written from a JSON
    // one) compiles to exactly the tree PATH does.
    if let Some(twin) = bytes.strip_prefix(b"# twin: ").and_then(|rest| rest.split(|b| *b == b'\n').next()) {
        let twin = Path::new(FIXTURES).join(String::from_utf8_lossy(twin).trim());
        let twin_checked = check_fixture(&twin, &read_fixture(&twin)?);
        let twin_cluster = twin_checked.cluster.ok_or_else(|| format!("the twin {} is invalid", twin.display()))?;
        let changes = lvsdr::review::compare(&twin_cluster.tree(), &tree, true);
        if !changes.is_empty() {
            return Err(format!("{name} compiles to another tree than its twin:\n{}", lvsdr::review::human(&changes)));
        }
    }
    let utf8_out = camino::Utf8Path::from_path(&out).ok_or("temporary path is not UTF-8")?;
    // The streaming writer, as `lvsdr compile` runs it: the whole tree first.
    let digest = lvsdr::sha256_hex(String::from_utf8_lossy(&bytes).as_bytes());
    let written = lvsdr::write::compile(cluster, &digest, utf8_out).map_err(|e| e.to_string())?;
    if written.method != lvsdr::write::Method::WholeTree {
        return Err(format!("a first compile wrote {:?}", written.method));
    }
    let first = read_tree(&out)?;
    // It writes what the tree in memory holds, byte for byte.
    let on_disk = lvsdr::write::read_tree(utf8_out).map_err(|e| e.to_string())?;
    let changes = lvsdr::review::compare(&on_disk, &tree, true);
    if !changes.is_empty() {
        return Err(format!("the written tree differs from the one in memory:\n{}", lvsdr::review::human(&changes)));
    }
    // Compiling again writes nothing; `compile --check` finds nothing to say.
    let again = lvsdr::write::compile(cluster, &digest, utf8_out).map_err(|e| e.to_string())?;
    if again.method != lvsdr::write::Method::Unchanged || read_tree(&out)? != first {
        return Err(format!("a second compile of the same manifest wrote something ({:?})", again.method));
    }
    let changes = lvsdr::write::check(cluster, utf8_out).map_err(|e| e.to_string())?;
    if !changes.is_empty() {
        return Err(format!("compile --check finds differences in a fresh tree:\n{}", lvsdr::review::human(&changes)));
    }
    // Without its record the writer replaces its own tree whole, with the same bytes.
    lvsdr::write::write_tree(&tree, utf8_out).map_err(|e| e.to_string())?;
    if read_tree(&out)? != first {
        return Err("writing the tree in memory gave other bytes than the streaming writer".into());
    }
    let mut text = String::new();
    if !checked.diagnostics.is_empty() {
        text += &checked.human(&name, Style { color: false });
        text += "\n";
    }
    for (relative, mode, contents) in first {
        text += &format!("──── {relative} (mode {mode:04o}) ────\n{contents}\n");
    }
    snapshot(&snapshot_name(&name), &text);
    Ok(())
}

fn read_tree(root: &Path) -> Result<Vec<(String, u32, String)>, String> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            let meta = std::fs::symlink_metadata(entry.path()).map_err(|e| e.to_string())?;
            if meta.is_dir() {
                if meta.permissions().mode() & 0o7777 != 0o755 {
                    return Err(format!(
                        "directory {} has mode {:o}",
                        entry.path().display(),
                        meta.permissions().mode()
                    ));
                }
                stack.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(root).unwrap().display().to_string();
                let contents = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
                files.push((relative, meta.permissions().mode() & 0o7777, contents));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// An invalid fixture must fail; its human and JSON reports are the snapshot.
fn invalid_case(path: &Path) -> Result<(), String> {
    let name = display_name(path);
    let bytes = read_fixture(path)?;
    let mut checked = check_fixture(path, &bytes);
    checked.name_file(&name);
    if checked.cluster.is_some() || !has_errors(&checked.diagnostics) {
        return Err(format!("{name} should be invalid but compiled"));
    }
    if let Some(d) = checked.diagnostics.iter().find(|d| d.hint.is_none()) {
        return Err(format!("{} at {} has no hint", d.code, d.path));
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": checked.json() })).unwrap();
    let text = format!("{}\n──── --format json ────\n{json}\n", checked.human(&name, Style { color: false }));
    snapshot(&snapshot_name(&name), &text);
    Ok(())
}

/// A pair of manifests: what `lvsdr diff` reports from the old one's artifacts to the new one's.
fn diff_case(dir: &Path) -> Result<(), String> {
    let name = display_name(dir);
    let mut trees = Vec::new();
    // The writer's update from the old tree to the new one ends at the new tree exactly.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diff-updates").join(name.replace('/', "__")).join("out");
    let _ = std::fs::remove_dir_all(&out);
    let utf8_out = camino::Utf8Path::from_path(&out).ok_or("temporary path is not UTF-8")?;
    let mut methods = Vec::new();
    for side in ["old.json", "new.json"] {
        let bytes = read_fixture(&dir.join(side))?;
        let checked = check_fixture(&dir.join(side), &bytes);
        let cluster = checked.cluster.ok_or_else(|| format!("{name}/{side} should be valid"))?;
        let digest = lvsdr::sha256_hex(String::from_utf8_lossy(&bytes).as_bytes());
        methods.push(lvsdr::write::compile(&cluster, &digest, utf8_out).map_err(|e| e.to_string())?.method);
        let leftover = lvsdr::write::check(&cluster, utf8_out).map_err(|e| e.to_string())?;
        if !leftover.is_empty() {
            return Err(format!("after compiling {side}:\n{}", lvsdr::review::human(&leftover)));
        }
        trees.push(cluster.tree());
    }
    if methods[1] == lvsdr::write::Method::WholeTree {
        return Err(format!("{name}: the second compile rewrote the whole tree instead of updating it"));
    }
    let changes = lvsdr::review::compare(&trees[0], &trees[1], false);
    let json = serde_json::to_string_pretty(&serde_json::to_value(lvsdr::review::entries(&changes)).unwrap()).unwrap();
    let human = if changes.is_empty() { "(no artifact changes)\n".into() } else { lvsdr::review::human(&changes) };
    snapshot(&snapshot_name(&name), &format!("{human}\n──── --format json (changes) ────\n{json}\n"));
    Ok(())
}

/// The codes for what JSON Schema can say: syntax, keys, types, keyword lists, name and
/// address patterns (IPv6 included), ranges, at least one director, port 0 needs persistence. A fixture must fail `lvsdr schema` exactly
/// when lvsdr reports one of these. Duplicate keys (E0031) are invisible to a schema,
/// which sees the parsed document; cross-references need `lvsdr check`.
const SCHEMA_CODES: &[&str] = &[
    "E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0009", "E0010", "E0011", "E0016", "E0017", "E0018",
    "E0019", "E0020", "E0021", "E0022", "E0023", "E0025", "E0029", "E0036", "E0038", "E0046", "E0048", "E0054",
    "E0055", "E0058", "E0059",
];

fn schema_agrees() -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let schema = lvsdr::schema::manifest_schema();
    compiler.add_resource(lvsdr::schema::SCHEMA_ID, schema).map_err(|e| e.to_string())?;
    let index = compiler.compile(lvsdr::schema::SCHEMA_ID, &mut schemas).map_err(|e| format!("{e:#}"))?;
    let mut wrong = Vec::new();
    let mut all = vec![Path::new(FIXTURES).join("example.json")];
    all.extend(manifests("valid"));
    all.extend(manifests("invalid"));
    for path in all {
        let bytes = read_fixture(&path)?;
        let checked = check_fixture(&path, &bytes);
        let structural = checked.diagnostics.iter().any(|d| SCHEMA_CODES.contains(&d.code.as_str()));
        let document = match lvsdr::Syntax::of_file_name(&path.to_string_lossy()) {
            lvsdr::Syntax::Json => serde_json::from_slice::<serde_json::Value>(&bytes).ok(),
            lvsdr::Syntax::Yaml => {
                std::str::from_utf8(&bytes).ok().and_then(|text| lvsdr::manifest_value(text, lvsdr::Syntax::Yaml))
            }
        };
        let verdict = match document {
            None => Err("not JSON".to_owned()),
            Some(document) => schemas.validate(&document, index).map_err(|e| format!("{e}")),
        };
        match (structural, verdict) {
            (false, Err(why)) => wrong.push(format!("{}: the schema rejects it ({why})", display_name(&path))),
            (true, Ok(())) => {
                wrong.push(format!("{}: has structural errors, the schema accepts it", display_name(&path)))
            }
            _ => {}
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n"))
    }
}

/// A fixture's bytes; a `.json.gz` fixture (an input too large to keep as it is) is
/// decompressed first.
fn read_fixture(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes.as_slice()), &mut plain)
            .map_err(|e| e.to_string())?;
        return Ok(plain);
    }
    Ok(bytes)
}

fn snapshot_name(fixture: &str) -> String {
    fixture.trim_end_matches(".gz").trim_end_matches(".json").replace('/', "__")
}

fn main() {
    let args = Arguments::from_args();
    let mut valid = vec![Path::new(FIXTURES).join("example.json")];
    valid.extend(manifests("valid"));
    let invalid = manifests("invalid");
    let mut trials = Vec::new();
    for path in valid {
        trials.push(Trial::test(display_name(&path), move || guarded(move || valid_case(&path))));
    }
    for path in invalid {
        trials.push(Trial::test(display_name(&path), move || guarded(move || invalid_case(&path))));
    }
    let mut diffs: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join("diff"))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    diffs.sort();
    for dir in diffs {
        trials.push(Trial::test(display_name(&dir), move || guarded(move || diff_case(&dir))));
    }
    trials.push(Trial::test("docs/manifest.md is generated from the schema, codes and init template", move || {
        let path = Path::new(FIXTURES).join("../docs/manifest.md");
        let generated = lvsdr::reference::markdown();
        if std::env::var_os("LVSDR_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).map_err(|e| e.to_string())?;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            return Err(
                "docs/manifest.md is stale: regenerate it with LVSDR_UPDATE_DOCS=1 cargo test --test fixtures".into()
            );
        }
        Ok(())
    }));
    trials.push(Trial::test(
        "docs/platforms.md's table and docs/platforms.json are generated from the platform table",
        || {
            let (begin, end) = (lvsdr::reference::PLATFORMS_BEGIN, lvsdr::reference::PLATFORMS_END);
            let page = Path::new(FIXTURES).join("../docs/platforms.md");
            let committed = std::fs::read_to_string(&page).map_err(|e| e.to_string())?;
            let (Some(start), Some(stop)) = (committed.find(begin), committed.find(end)) else {
                return Err(format!("docs/platforms.md has no {begin} ... {end} markers").into());
            };
            let page_generated = format!(
                "{}{begin}\n{}{}",
                &committed[..start],
                lvsdr::reference::platforms_markdown(),
                &committed[stop..]
            );
            let data = Path::new(FIXTURES).join("../docs/platforms.json");
            let data_generated = lvsdr::reference::platforms_json();
            if std::env::var_os("LVSDR_UPDATE_DOCS").is_some() {
                std::fs::write(&page, &page_generated).map_err(|e| e.to_string())?;
                std::fs::write(&data, &data_generated).map_err(|e| e.to_string())?;
                return Ok(());
            }
            let stale: Vec<&str> = [
                (committed != page_generated).then_some("docs/platforms.md"),
                (std::fs::read_to_string(&data).unwrap_or_default() != data_generated).then_some("docs/platforms.json"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if stale.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} stale: regenerate with LVSDR_UPDATE_DOCS=1 cargo test --test fixtures",
                    stale.join(" and ")
                )
                .into())
            }
        },
    ));
    // Tests run in parallel, so this one analyses the fixtures itself.
    trials.push(Trial::test("every diagnostic code has a fixture", move || {
        let mut seen = BTreeSet::new();
        for path in manifests("valid").into_iter().chain(manifests("invalid")) {
            let checked = check_fixture(&path, &read_fixture(&path)?);
            seen.extend(checked.diagnostics.iter().map(|d| d.code));
        }
        let missing: Vec<&str> =
            Code::ALL.iter().filter(|c| c.about_manifest() && !seen.contains(c)).map(|c| c.as_str()).collect();
        let undocumented: Vec<&str> = Code::ALL
            .iter()
            .filter(|c| !c.explanation().contains("\nExample:\n") || !c.explanation().contains("\nFix: "))
            .map(|c| c.as_str())
            .collect();
        if !undocumented.is_empty() {
            return Err(format!("lvsdr explain gives no example or fix for {}", undocumented.join(", ")).into());
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("no fixture produces {}", missing.join(", ")).into())
        }
    }));
    // An unknown word's hint has two forms, a did-you-mean and the plain list; the
    // fixtures show both for every such code, so that a word that becomes known (a new
    // release, a new dialect) cannot take a form's only example away unnoticed.
    trials.push(Trial::test("every unknown-word code is shown with and without a did-you-mean", move || {
        let mut forms: BTreeMap<&str, BTreeSet<bool>> = BTreeMap::new();
        for path in manifests("invalid") {
            let checked = check_fixture(&path, &read_fixture(&path)?);
            for d in &checked.diagnostics {
                if d.code.title().starts_with("unknown ") {
                    let close = d.hint.as_deref().is_some_and(|h| h.contains("did you mean"));
                    forms.entry(d.code.as_str()).or_default().insert(close);
                }
            }
        }
        let codes = Code::ALL.iter().filter(|c| c.about_manifest() && c.title().starts_with("unknown "));
        let short: Vec<String> = codes
            .filter_map(|c| {
                let seen = forms.get(c.as_str()).cloned().unwrap_or_default();
                (seen.len() < 2).then(|| {
                    format!(
                        "{} ({})",
                        c.as_str(),
                        if seen.contains(&true) { "no plain list" } else { "no did-you-mean" }
                    )
                })
            })
            .collect();
        if short.is_empty() {
            Ok(())
        } else {
            Err(format!("no invalid fixture shows both hint forms of {}", short.join(", ")).into())
        }
    }));
    trials.push(Trial::test("lvsdr schema accepts exactly the fixtures without structural errors", || {
        schema_agrees().map_err(Failed::from)
    }));
    libtest_mimic::run(&args, trials).exit();
}
