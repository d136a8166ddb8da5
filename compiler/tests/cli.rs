//! The command line's promises, through the real binary: JSON on stdout for every
//! command, exit codes, `compile --check`, a 100 MB input, generated completions and
//! man pages, a compile killed with SIGKILL mid-write, and a disk that fills while a large
//! file streams.

use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const LVSDR: &str = env!("CARGO_BIN_EXE_lvsdr");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json");
const INVALID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/invalid/many-errors-at-once.json");

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            status: out.status.code().expect("lvsdr exits, not killed"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

fn lvsdr(args: &[&str]) -> Run {
    Command::new(LVSDR).args(args).env("NO_COLOR", "1").output().expect("lvsdr runs").into()
}

/// Every command, its outcomes included, prints one JSON object with a diagnostics
/// array on stdout under --format json, and nothing on stderr.
#[test]
fn every_command_speaks_json() {
    let dir = scratch("json");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["check", EXAMPLE], 0, "valid"),
        (&["check", INVALID], 1, "valid"),
        (&["check", "/nonexistent/manifest.json"], 2, "diagnostics"),
        (&["compile", EXAMPLE, "-o", out], 0, "written"),
        (&["compile", EXAMPLE, "-o", out, "--check"], 0, "up_to_date"),
        (&["compile", INVALID, "-o", out], 1, "written"),
        (&["render", EXAMPLE, "--server", "web1", "--artifact", "rc-local"], 0, "contents"),
        (&["render", EXAMPLE, "--server", "nobody", "--artifact", "rc-local"], 2, "diagnostics"),
        (&["diff", EXAMPLE, EXAMPLE], 0, "changes"),
        (&["diff", EXAMPLE, INVALID], 1, "changes"),
        (&["schema"], 0, "schema"),
        (&["explain", "E0014"], 0, "codes"),
        (&["explain", "E9999"], 2, "diagnostics"),
        (&["completions", "bash"], 0, "completions"),
        (&["man"], 0, "man"),
        (&["show", EXAMPLE], 0, "servers"),
        (&["show", EXAMPLE, "--server", "nobody"], 2, "diagnostics"),
        (&["show", INVALID], 1, "diagnostics"),
        (&["init", "-"], 0, "written"),
        (&["frobnicate"], 2, "diagnostics"),
        (&["compile", EXAMPLE], 2, "diagnostics"),
    ];
    for (args, status, key) in cases {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        let run = lvsdr(&full);
        let value: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("lvsdr {}: stdout is not JSON ({e}): {}", args.join(" "), run.stdout));
        assert_eq!(run.status, *status, "lvsdr {}: exit status; stdout {}", args.join(" "), run.stdout);
        assert!(value["diagnostics"].is_array(), "lvsdr {}: no diagnostics array", args.join(" "));
        assert!(value.get(*key).is_some(), "lvsdr {}: no \"{key}\" in {value}", args.join(" "));
        assert_eq!(run.stderr, "", "lvsdr {}: stderr under --format json", args.join(" "));
        if *status == 2 {
            let code = value["diagnostics"][0]["code"].as_str().unwrap_or_default();
            assert!(code.starts_with("E004"), "lvsdr {}: a usage or IO failure has code {code}", args.join(" "));
        }
    }
}

/// `compile --check` writes nothing: 0 when OUT is what the manifest compiles to, 1 and a
/// unified diff when a file was edited, a mode changed, or a stray file appeared.
#[test]
fn compile_check_reports_drift_and_writes_nothing() {
    let dir = scratch("check");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    assert_eq!(lvsdr(&["compile", EXAMPLE, "-o", out_s]).status, 0);
    assert_eq!(lvsdr(&["compile", EXAMPLE, "-o", out_s, "--check"]).status, 0);

    let rules = out.join("web3/etc/sysconfig/arptables");
    let edited = std::fs::read_to_string(&rules).unwrap().replace("-s 10.0.0.100", "-d 10.0.0.100");
    std::fs::write(&rules, &edited).unwrap();
    std::fs::write(out.join("web1/stray"), "left by hand\n").unwrap();
    let run = lvsdr(&["compile", EXAMPLE, "-o", out_s, "--check"]);
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("--- a/web3/etc/sysconfig/arptables\n+++ b/web3/etc/sysconfig/arptables\n"));
    assert!(run.stdout.contains("\n--A OUTPUT -d 10.0.0.100"), "{}", run.stdout);
    assert!(run.stdout.contains("\n+-A OUTPUT -s 10.0.0.100"), "{}", run.stdout);
    assert!(run.stdout.contains("removed web1/stray"), "{}", run.stdout);
    // Nothing was written: the edit and the stray file are still there, nothing beside OUT.
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), edited);
    assert!(out.join("web1/stray").exists());
    let mut beside: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    beside.sort();
    // Only what the first compile left: OUT, its lock file and its record.
    assert_eq!(beside, vec![".out.lvsdr-lock", ".out.lvsdr-state", "out"]);

    let json: Value =
        serde_json::from_str(&lvsdr(&["--format", "json", "compile", EXAMPLE, "-o", out_s, "--check"]).stdout).unwrap();
    assert_eq!(json["up_to_date"], false);
    assert_eq!(json["changes"].as_array().map(Vec::len), Some(2));
}

/// 100 MB on standard input: refused with E0037 and exit 1 after reading at most the
/// limit, not a hang or an out-of-memory kill.
#[test]
fn a_manifest_over_the_size_limit_is_refused() {
    let mut child = Command::new(LVSDR)
        .args(["--format", "json", "--max-manifest-size", "16M", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0usize;
        stdin.write_all(b"{\"version\": 1").ok();
        for _ in 0..100 {
            // lvsdr stops reading at the limit and exits: the pipe then breaks.
            if stdin.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let output = child.wait_with_output().unwrap();
    let sent = feeder.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["diagnostics"][0]["code"], "E0037", "{value}");
    assert!(sent < 100 << 20, "lvsdr read all 100 MB instead of stopping at the limit");
    assert!(value["diagnostics"][0]["message"].as_str().unwrap().contains("16 MiB"), "{value}");
    // The limit applies to files too, and is an option, not a wall.
    let small = lvsdr(&["--max-manifest-size", "1K", "check", EXAMPLE]);
    assert_eq!(small.status, 1, "{}", small.stderr);
    assert!(small.stderr.contains("E0037") && small.stderr.contains("1 KiB"), "{}", small.stderr);
    assert_eq!(lvsdr(&["--max-manifest-size", "1M", "check", EXAMPLE]).status, 0);
    assert_eq!(lvsdr(&["--max-manifest-size", "lots", "check", EXAMPLE]).status, 2);
}

#[test]
fn completions_and_man_pages_are_generated_from_the_command_line() {
    let commands = ["compile", "check", "render", "diff", "schema", "explain", "completions", "man"];
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = lvsdr(&["completions", shell]);
        assert_eq!(run.status, 0);
        for command in commands {
            assert!(run.stdout.contains(command), "{shell} completion lacks {command}");
        }
    }
    let bash = lvsdr(&["completions", "bash"]).stdout;
    let syntax = Command::new("bash").args(["-n", "-c", &bash]).status().expect("bash runs");
    assert!(syntax.success(), "the bash completion script does not parse");
    let page = lvsdr(&["man"]).stdout;
    assert!(page.contains(".TH lvsdr 1"), "{page}");
    for command in commands {
        assert!(page.contains(&format!("lvsdr\\-{command}(1)")), "lvsdr(1) does not list {command}");
        let sub = lvsdr(&["man", command]);
        assert_eq!(sub.status, 0);
        assert!(sub.stdout.contains(&format!(".TH lvsdr-{command} 1")), "no lvsdr-{command}(1)");
    }
}

/// A cluster large enough that writing its tree takes a while: `n` real servers. Each
/// `weight` also gives the real servers another interface, so that every file changes.
fn big_manifest(n: usize, weight: u64) -> String {
    let servers: Vec<Value> = (0..n)
        .map(|i| json!({ "name": format!("rs{i}"), "address": format!("10.20.{}.{}/16", i / 250, i % 250 + 2) }))
        .collect();
    let services: Vec<Value> = (0..8)
        .map(|s| {
            let members: Vec<Value> =
                (s..n).step_by(8).map(|i| json!({ "server": format!("rs{i}"), "weight": weight })).collect();
            json!({ "name": format!("svc{s}"), "vip": format!("10.20.250.{}", s + 1), "port": 80 + s, "real_servers": members })
        })
        .collect();
    json!({ "version": 1, "cluster": "kill", "directors": [{ "name": "lvs1", "address": "10.20.255.2/16" }],
            "defaults": { "interface": format!("eth{weight}") },
            "services": services, "real_servers": servers })
    .to_string()
}

/// Every file index.json lists, with its sha256, and nothing else: the whole tree of one
/// compile. Returns the weight the tree was compiled with (from one ipvsadm line).
fn whole_tree(out: &Path) -> Result<String, String> {
    let index: lvsdr::contract::Index =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let mut listed = std::collections::BTreeSet::from(["index.json".to_owned()]);
    for (_, artifact) in index.artifacts() {
        let path = &artifact.path;
        let contents = std::fs::read_to_string(out.join(path)).map_err(|e| format!("{path}: {e}"))?;
        if lvsdr::sha256_hex(&contents) != artifact.sha256 {
            return Err(format!("{path} does not match its sha256"));
        }
        listed.insert(path.clone());
    }
    let mut present = std::collections::BTreeSet::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                present.insert(path.strip_prefix(out).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    if present != listed {
        return Err(format!("{} files on disk, {} listed", present.len(), listed.len()));
    }
    let table = std::fs::read_to_string(out.join("lvs1/etc/sysconfig/ipvsadm")).map_err(|e| e.to_string())?;
    Ok(table.lines().nth(1).and_then(|l| l.rsplit(' ').next()).unwrap_or_default().to_owned())
}

/// Which manifest OUT holds as `compile --check` sees it: 1 or 2, or a panic when it is
/// neither wholly (`old`, `new`: the manifests of weight 1 and 2).
fn checked_state(old: &Path, new: &Path, out: &Path) -> u32 {
    let check = |manifest: &Path| {
        Command::new(LVSDR).arg("compile").arg(manifest).arg("-o").arg(out).arg("--check").output().unwrap()
    };
    let (with_old, with_new) = (check(old), check(new));
    match (with_old.status.code(), with_new.status.code()) {
        (Some(0), _) => 1,
        (_, Some(0)) => 2,
        _ => panic!("OUT is neither tree as --check sees it:\n{}", String::from_utf8_lossy(&with_new.stdout)),
    }
}

/// What lies beside OUT in `dir`, sorted.
fn beside(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A compile killed with SIGKILL at points spread over its run leaves OUT whole as
/// `compile --check` sees it: the previous tree or the new one, never a mix, whether the
/// kill lands in a whole-tree write or in an update; the next compile completes or cleans
/// up after it.
#[test]
fn sigkill_mid_write_leaves_the_previous_tree_whole() {
    let dir = scratch("sigkill");
    let (old, new, out) = (dir.join("old.json"), dir.join("new.json"), dir.join("out"));
    std::fs::write(&old, big_manifest(400, 1)).unwrap();
    std::fs::write(&new, big_manifest(400, 2)).unwrap();
    let compile = |manifest: &Path| {
        Command::new(LVSDR).arg("compile").arg(manifest).arg("-o").arg(&out).stderr(Stdio::null()).spawn().unwrap()
    };
    assert!(compile(&old).wait().unwrap().success());
    assert_eq!(whole_tree(&out).as_deref(), Ok("1"));
    // How long an update to the new manifest takes here, to spread the kills over it.
    let start = Instant::now();
    assert!(compile(&new).wait().unwrap().success());
    let full = start.elapsed();
    assert!(compile(&old).wait().unwrap().success());

    for forget_record in [false, true] {
        let mut interrupted = 0;
        for step in 1..=3u32 {
            if forget_record {
                // No record: the whole-tree write, swapped in.
                let _ = std::fs::remove_file(dir.join(".out.lvsdr-state"));
            }
            let mut child = compile(&new);
            std::thread::sleep(full * step / 4);
            let finished = child.try_wait().unwrap().is_some();
            let _ = child.kill(); // SIGKILL
            child.wait().unwrap();
            let state = checked_state(&old, &new, &out);
            if !finished && state == 1 {
                interrupted += 1;
            }
            // The next compile finishes a decided update or removes what was left.
            assert!(compile(&old).wait().unwrap().success());
            assert_eq!(whole_tree(&out).as_deref(), Ok("1"), "kill at {step}/4 of {full:?}");
        }
        assert!(interrupted > 0, "no kill landed before the commit ({full:?} per compile): the test proved nothing");
    }
    assert!(compile(&new).wait().unwrap().success());
    assert_eq!(whole_tree(&out).as_deref(), Ok("2"));
    assert_eq!(beside(&dir), [".out.lvsdr-lock", ".out.lvsdr-state", "new.json", "old.json", "out"], "leftovers");
}

/// An update killed at chosen points of its journal: before the commit (OUT stays old),
/// right after it and halfway through the renames (OUT is new as `--check` sees it,
/// though half the files on disk are still old). The next compile finishes it.
#[test]
fn an_update_killed_in_its_journal_is_finished_by_the_next_compile() {
    let dir = scratch("journal-kill");
    let (old, new, out) = (dir.join("old.json"), dir.join("new.json"), dir.join("out"));
    std::fs::write(&old, big_manifest(40, 1)).unwrap();
    std::fs::write(&new, big_manifest(40, 2)).unwrap();
    let compile =
        |manifest: &Path| Command::new(LVSDR).arg("compile").arg(manifest).arg("-o").arg(&out).output().unwrap();
    // rename #1 commits the journal; #2.. move the staged files in; 40 servers change.
    for (nth, expected) in [(1, 1), (2, 2), (100, 2)] {
        assert_eq!(compile(&old).status.code(), Some(0));
        let killed = Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=rename"])
            .arg("-e")
            .arg(format!("inject=rename:signal=KILL:when={nth}"))
            .arg(LVSDR)
            .arg("compile")
            .arg(&new)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("strace runs (apt-get install strace; .ci/run installs it)");
        assert_ne!(killed.status.code(), Some(0), "the kill at rename {nth} did not land");
        assert_eq!(checked_state(&old, &new, &out), expected, "killed at rename {nth}");
        if expected == 2 {
            assert!(dir.join(".out.lvsdr-journal").exists(), "killed at rename {nth}: no journal left to finish");
        }
        let next = compile(&new);
        assert_eq!(next.status.code(), Some(0), "{}", String::from_utf8_lossy(&next.stderr));
        assert_eq!(whole_tree(&out).as_deref(), Ok("2"));
        assert_eq!(beside(&dir), [".out.lvsdr-lock", ".out.lvsdr-state", "new.json", "old.json", "out"]);
    }
}

/// A journal that is not whole (never committed that way: it is renamed into place) is
/// refused, not half replayed: compile and --check exit 2 and OUT is left as it is.
#[test]
fn a_damaged_journal_is_refused_and_replays_nothing() {
    let dir = scratch("journal-damaged");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    assert_eq!(lvsdr(&["compile", EXAMPLE, "-o", out_s]).status, 0);
    let before = stamps(&out);
    std::fs::write(dir.join(".out.lvsdr-journal"), "lvsdr-journal 1\nstaging .out.lvsdr-staging-1\nremove web1/x\n")
        .unwrap();
    for args in [&["compile", EXAMPLE, "-o", out_s][..], &["compile", EXAMPLE, "-o", out_s, "--check"]] {
        let run = lvsdr(args);
        assert_eq!(run.status, 2, "{}", run.stderr);
        assert!(run.stderr.contains("journal is damaged"), "{}", run.stderr);
    }
    assert_eq!(stamps(&out), before, "a damaged journal changed OUT");
}

/// The inode, size and modification time of every file below `out`.
fn stamps(out: &Path) -> std::collections::BTreeMap<String, (u64, u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(out).unwrap().to_string_lossy().into_owned();
                found.insert(relative, (meta.ino(), meta.size(), meta.mtime(), meta.mtime_nsec()));
            }
        }
    }
    found
}

/// Cost follows the change: an unchanged manifest writes nothing (no inode or time
/// changes), a change to one server rewrites that server's changed files and index.json
/// only, and a server dropped from the manifest loses its files and directories.
#[test]
fn recompiles_write_only_what_changed() {
    let dir = scratch("incremental");
    let out = dir.join("out");
    let manifest = dir.join("m.json");
    let mut value: Value = serde_json::from_str(&big_manifest(40, 1)).unwrap();
    std::fs::write(&manifest, value.to_string()).unwrap();
    let compile = || {
        let run = lvsdr(&["--format", "json", "compile", manifest.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        serde_json::from_str::<lvsdr::contract::CompileResult>(&run.stdout).unwrap()
    };
    assert_eq!(compile().method, Some(lvsdr::contract::WriteMethod::WholeTree));
    let before = stamps(&out);
    let again = compile();
    assert_eq!(again.method, Some(lvsdr::contract::WriteMethod::Unchanged));
    assert_eq!(stamps(&out), before, "an unchanged manifest rewrote files");

    // Another interface for rs7 changes its files only (and the index that lists them).
    value["real_servers"][7]["interface"] = json!("bond0");
    std::fs::write(&manifest, value.to_string()).unwrap();
    let update = compile();
    assert_eq!(update.method, Some(lvsdr::contract::WriteMethod::Update));
    let after = stamps(&out);
    let rewritten: Vec<&String> = after.keys().filter(|path| after.get(*path) != before.get(*path)).collect();
    assert!(!rewritten.is_empty());
    for path in &rewritten {
        assert!(path.starts_with("rs7/") || path.as_str() == "index.json", "{path} was rewritten");
    }
    assert_eq!(update.changed_files, Some(rewritten.len()));
    assert_eq!(lvsdr(&["compile", manifest.to_str().unwrap(), "-o", out.to_str().unwrap(), "--check"]).status, 0);

    // Dropping rs39 (a member of service svc7) removes its directory.
    let servers = value["real_servers"].as_array_mut().unwrap();
    servers.retain(|s| s["name"] != "rs39");
    for service in value["services"].as_array_mut().unwrap() {
        service["real_servers"].as_array_mut().unwrap().retain(|m| m["server"] != "rs39");
    }
    std::fs::write(&manifest, value.to_string()).unwrap();
    let drop = compile();
    assert_eq!(drop.method, Some(lvsdr::contract::WriteMethod::Update));
    assert!(drop.removed_files.unwrap() > 0);
    assert!(!out.join("rs39").exists(), "the dropped server's directory is left");
    assert_eq!(whole_tree(&out).map(|_| ()), Ok(()));

    // A record is trusted only for the OUT it describes: a copy of the tree with the
    // record copied beside it, or an index.json touched since, gets the whole tree.
    let copy = dir.join("copy");
    assert!(Command::new("cp").arg("-a").arg(&out).arg(&copy).status().unwrap().success());
    std::fs::copy(dir.join(".out.lvsdr-state"), dir.join(".copy.lvsdr-state")).unwrap();
    let run = lvsdr(&["--format", "json", "compile", manifest.to_str().unwrap(), "-o", copy.to_str().unwrap()]);
    let copied: lvsdr::contract::CompileResult = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(copied.method, Some(lvsdr::contract::WriteMethod::WholeTree), "a copied record was trusted");
    let index = out.join("index.json");
    std::fs::write(&index, std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(compile().method, Some(lvsdr::contract::WriteMethod::WholeTree), "a touched index.json was trusted");
}

/// A reader that stops early (`lvsdr explain | head -1`) is not a crash.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    for args in
        [&["explain"][..], &["schema"], &["man"], &["render", EXAMPLE, "--server", "lvs1", "--artifact", "keepalived"]]
    {
        let mut child = Command::new(LVSDR).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone before lvsdr writes
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "lvsdr {}: {stderr}", args.join(" "));
        assert_eq!(out.status.code(), Some(0), "lvsdr {}", args.join(" "));
    }
}

/// A FIFO with no writer is refused at once (no hang), and a closed standard input is an
/// IO error, not an empty manifest.
#[test]
fn fifos_and_closed_stdin_are_read_errors() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-fifo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("manifest.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let run = lvsdr(&["check", fifo.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.status, 2, "{}", run.stdout);
    assert!(run.stdout.contains("E0041") && run.stdout.contains("not a regular file"), "{}", run.stdout);
    let closed = std::process::Command::new("sh")
        .args(["-c", "exec \"$0\" check - --format json <&-", env!("CARGO_BIN_EXE_lvsdr")])
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&closed.stdout).contains("it is closed"));
}

/// `lvsdr compile` under strace with a fault injected into one system call.
fn compile_with_fault(fault: &str, out: &Path) -> std::process::Output {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json");
    Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", fault, LVSDR, "compile", example, "-o"])
        .arg(out)
        .output()
        .expect("strace runs (apt-get install strace; .ci/run installs it)")
}

/// A wide cluster: `servers` real servers, each in every one of `services` services, so
/// that a director's keepalived.conf outgrows what the writer keeps in memory (200 × 200:
/// about 1.7 MB, against 1 MiB) while the rest of the tree stays small per file.
fn wide_manifest(servers: usize, services: usize) -> String {
    let names: Vec<String> = (0..servers).map(|i| format!("rs{i}")).collect();
    let real_servers: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| json!({ "name": name, "address": format!("10.30.{}.{}/16", i / 250, i % 250 + 2) }))
        .collect();
    let services: Vec<Value> = (0..services)
        .map(|s| {
            let members: Vec<Value> = names.iter().map(|name| json!({ "server": name })).collect();
            json!({ "name": format!("svc{s}"), "vip": format!("10.30.{}.{}", 200 + s / 250, s % 250 + 1), "port": 80,
                    "real_servers": members })
        })
        .collect();
    json!({ "version": 1, "cluster": "wide", "directors": [{ "name": "lvs1", "address": "10.30.255.2/16" },
            { "name": "lvs2", "address": "10.30.255.3/16" }], "services": services, "real_servers": real_servers })
    .to_string()
}

/// A filesystem of `size` mounted on `dir` for one test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let mount = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "lvsdr-small-disk"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            mount.status.success(),
            "mounting a small tmpfs needs root, as the suite's network tests do: {}",
            String::from_utf8_lossy(&mount.stderr)
        );
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A disk that fills while the directors' keepalived.conf streams to staging (their
/// files are over 1 MiB, so they go to disk in pieces as they render): the compile exits
/// 2 naming the file and the error, leaves no staging directory, and OUT is as it was, the
/// previous tree whole, or no OUT at all for a first compile.
#[test]
fn a_full_disk_while_a_large_file_streams_leaves_out_as_it_was() {
    let dir = scratch("full-disk");
    let (small, wide) = (dir.join("small.json"), dir.join("wide.json"));
    std::fs::write(&small, wide_manifest(2, 2)).unwrap();
    std::fs::write(&wide, wide_manifest(200, 200)).unwrap();
    let disk = SmallDisk::mount(&dir.join("disk"), "1536k");
    let out = disk.0.join("out");
    let compile = |manifest: &Path| lvsdr(&["compile", manifest.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let first = compile(&small);
    assert_eq!(first.status, 0, "{}", first.stderr);
    let before = whole_tree(&out).unwrap();

    for (case, expected_beside) in
        [("update", vec![".out.lvsdr-lock", ".out.lvsdr-state", "out"]), ("first compile", vec![".out.lvsdr-lock"])]
    {
        let full = compile(&wide);
        assert_eq!(full.status, 2, "{case}: {}", full.stderr);
        // An update stages files under names of their own; the error names the file.
        let named = match case {
            "update" => "lvs1/etc/keepalived/keepalived.conf (staged as ",
            _ => "lvs1/etc/keepalived/keepalived.conf: ",
        };
        assert!(
            ["lvs1", "lvs2"].iter().any(|d| full.stderr.contains(&named.replace("lvs1", d)))
                && full.stderr.contains("No space left on device"),
            "{case}: the disk did not fill while keepalived.conf streamed: {}",
            full.stderr
        );
        assert_eq!(beside(&disk.0), expected_beside, "{case}: leftovers beside OUT");
        if case == "update" {
            assert_eq!(whole_tree(&out).unwrap(), before, "the previous tree is not whole");
            let check = lvsdr(&["compile", small.to_str().unwrap(), "-o", out.to_str().unwrap(), "--check"]);
            assert_eq!(check.status, 0, "--check does not see the previous tree: {}", check.stdout);
            std::fs::remove_dir_all(&out).unwrap();
            std::fs::remove_file(disk.0.join(".out.lvsdr-state")).unwrap();
        }
    }
}

/// Faults injected where the writer promises most: a filesystem that refuses
/// RENAME_EXCHANGE takes the three-rename fallback and still ends with one whole tree and
/// nothing beside it; a failing fsync after the swap is a warning, not an error, because
/// the new tree is already in place.
#[test]
fn injected_faults_keep_the_writer_promises() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-faults");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    let first = lvsdr(&[
        "compile",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(first.status, 0, "{}", first.stderr);

    // Without the record beside OUT, a compile writes the whole tree and swaps it in.
    let forget = || std::fs::remove_file(dir.join(".out.lvsdr-state")).unwrap();
    forget();
    let fallback = compile_with_fault("inject=renameat2:error=EINVAL", &out);
    assert!(fallback.status.success(), "{}", String::from_utf8_lossy(&fallback.stderr));
    whole_tree(&out).unwrap();
    let mut beside: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    beside.sort();
    assert_eq!(
        beside,
        vec![".out.lvsdr-lock", ".out.lvsdr-state", "out"],
        "leftovers beside OUT after the fallback swap"
    );

    forget();
    let fsync = compile_with_fault("inject=fsync:error=EIO", &out);
    let stderr = String::from_utf8_lossy(&fsync.stderr);
    assert!(fsync.status.success(), "a failed fsync after the swap is not a failed compile: {stderr}");
    assert!(stderr.contains("warning: the new tree is in place"), "{stderr}");
    whole_tree(&out).unwrap();

    // An update whose journal cannot be made durable changes nothing: the fsync comes
    // before the commit.
    let other = dir.join("other.json");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json")).unwrap();
    std::fs::write(&other, example.replace("\"weight\": 2", "\"weight\": 4")).unwrap();
    assert_ne!(std::fs::read_to_string(&other).unwrap(), example, "the example has a weight of 2 to change");
    let before = std::fs::read_to_string(out.join("index.json")).unwrap();
    let update = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "inject=fsync:error=EIO", LVSDR, "compile"])
        .arg(&other)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(update.status.code(), Some(2), "{}", String::from_utf8_lossy(&update.stderr));
    assert_eq!(std::fs::read_to_string(out.join("index.json")).unwrap(), before, "a failed update changed OUT");
    assert!(!dir.join(".out.lvsdr-journal").exists());
}

fn lvsdr_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(LVSDR);
    command.args(args).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("lvsdr runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap().into()
}

/// What CI and editors read: YAML from standard input named by --stdin-filename (the
/// `file` of every JSON diagnostic), GitHub annotations at the YAML line, warnings denied,
/// and colour as --color, NO_COLOR and CLICOLOR_FORCE say.
#[test]
fn ci_native_output() {
    let fixtures = Path::new(EXAMPLE).parent().unwrap();
    let semantic = std::fs::read(fixtures.join("invalid/yaml-semantic.yaml")).unwrap();
    let run =
        lvsdr_with(&["check", "-", "--stdin-filename", "site/cluster.yaml", "--format", "json"], &[], Some(&semantic));
    assert_eq!(run.status, 1);
    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    let first = &value["diagnostics"][0];
    assert_eq!(
        (first["file"].as_str(), first["line"].as_u64(), first["code"].as_str()),
        (Some("site/cluster.yaml"), Some(6), Some("E0020"))
    );
    // --input-format overrides the name: the same bytes as JSON are a syntax error.
    let run = lvsdr_with(
        &["check", "-", "--stdin-filename", "c.yaml", "--input-format", "json", "--format", "json"],
        &[],
        Some(&semantic),
    );
    assert!(run.stdout.contains("\"code\":\"E0001\"") && run.stdout.contains("looks like YAML"), "{}", run.stdout);

    let run = lvsdr_with(&["check", "-", "--stdin-filename", "c.yaml", "--format", "github"], &[], Some(&semantic));
    let annotations: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(annotations.len(), 3, "{}", run.stdout);
    assert!(
        annotations[0]
            .starts_with("::error file=c.yaml,line=6,col=13,endColumn=18,title=lvsdr E0020::unknown platform"),
        "{}",
        annotations[0]
    );
    assert!(run.stdout.lines().all(|l| l.starts_with("::error ")), "one annotation a line: {}", run.stdout);
    assert!(run.stderr.contains("error[E0020]"), "the human report still goes to stderr");

    // --deny-warnings: a warning fails the check and the compile writes nothing.
    let unused = fixtures.join("valid/unused-server.json");
    let unused = unused.to_str().unwrap();
    assert_eq!(lvsdr_with(&["check", unused], &[], None).status, 0);
    let dir = scratch("deny-warnings");
    let out = dir.join("out");
    let run =
        lvsdr_with(&["compile", unused, "-o", out.to_str().unwrap(), "--deny-warnings", "--format", "json"], &[], None);
    assert_eq!(run.status, 1);
    assert!(
        run.stdout.contains("\"code\":\"W0001\"") && run.stdout.contains("\"severity\":\"error\""),
        "{}",
        run.stdout
    );
    assert!(!out.exists(), "a denied warning wrote OUT");

    // Colour: never on a pipe unless forced; never under NO_COLOR or --color never.
    let old = fixtures.join("diff/move-vip/old.json");
    let new = fixtures.join("diff/move-vip/new.json");
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let escape = |run: &Run| run.stdout.contains("\x1b[") || run.stderr.contains("\x1b[");
    assert!(!escape(&lvsdr_with(&["diff", old, new], &[], None)), "colour on a pipe");
    let forced = lvsdr_with(&["diff", old, new], &[("CLICOLOR_FORCE", "1")], None);
    assert!(
        forced.stdout.contains("\x1b[31m-") && forced.stdout.contains("\x1b[32m+"),
        "CLICOLOR_FORCE gives no coloured diff"
    );
    assert!(!escape(&lvsdr_with(&["diff", old, new], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], None)));
    assert!(escape(&lvsdr_with(&["diff", old, new, "--color", "always"], &[("NO_COLOR", "1")], None)));
    assert!(!escape(&lvsdr_with(&["diff", old, new, "--color", "never"], &[("CLICOLOR_FORCE", "1")], None)));
    let invalid = lvsdr_with(&["check", INVALID, "--color", "always"], &[], None);
    assert!(invalid.stderr.contains("\x1b["), "--color always gives no coloured diagnostics");
}

/// See before you compile: `show` lists every host as index.json will; `init` writes a
/// starting manifest that checks, and never over a file; unknown `--server` and
/// `--artifact` values get the closest name; the shell completes hosts, artifacts and codes.
#[test]
fn show_init_suggestions_and_completion() {
    let run = lvsdr(&["show", EXAMPLE, "--format", "json"]);
    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    let names: Vec<&str> = value["servers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["web1", "web2", "web3", "web4", "web5", "web6"]);
    assert_eq!(value["directors"][0]["name"], "lvs1");
    let run = lvsdr(&["show", EXAMPLE, "--server", "web1"]);
    assert!(
        run.stdout.starts_with("web1 (real server)\n") && run.stdout.contains("/etc/rc.d/rc.local"),
        "{}",
        run.stdout
    );
    let table = lvsdr(&["show", EXAMPLE]).stdout;
    assert_eq!(table.lines().count(), 2 + 8, "a header, a title and one row per host:\n{table}");

    let dir = scratch("init");
    for name in ["cluster.yaml", "cluster.json"] {
        let path = dir.join(name);
        let path = path.to_str().unwrap();
        assert_eq!(lvsdr(&["init", path]).status, 0);
        let check = lvsdr(&["check", path]);
        assert_eq!((check.status, check.stderr.as_str()), (0, format!("{path}: ok\n").as_str()));
        let again = lvsdr(&["init", path]);
        assert_eq!(again.status, 2, "init wrote over {path}");
    }
    assert!(std::fs::read_to_string(dir.join("cluster.yaml")).unwrap().contains("\n# The directors"));

    let run = lvsdr(&["render", EXAMPLE, "--server", "wbe1", "--artifact", "vips"]);
    assert!(run.stderr.contains("did you mean \"web1\"?"), "{}", run.stderr);
    let run = lvsdr(&["render", EXAMPLE, "--server", "web1", "--artifact", "rclocal"]);
    assert!(run.stderr.contains("did you mean \"rc-local\"?"), "{}", run.stderr);

    let complete = |words: &[&str]| {
        let out = Command::new(LVSDR).env("COMPLETE", "fish").arg("--").args(words).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let hosts = complete(&["lvsdr", "render", EXAMPLE, "--server", "web"]);
    assert!(hosts.contains("web1\treal server") && hosts.contains("web5"), "{hosts}");
    let artifacts = complete(&["lvsdr", "render", EXAMPLE, "--server", "web1", "--artifact", ""]);
    assert!(artifacts.contains("rc-local\t/etc/rc.d/rc.local"), "{artifacts}");
    let codes = complete(&["lvsdr", "explain", "E001"]);
    assert!(codes.contains("E0014"), "{codes}");
}

/// A valid parse of a file is lowered without its text in memory; semantic errors are
/// then located by reading the file again, so they point at the same line and column as
/// when the text came on standard input (kept whole).
#[test]
fn semantic_errors_are_located_after_the_text_was_let_go() {
    let fixtures = Path::new(EXAMPLE).parent().unwrap();
    let path = fixtures.join("invalid/vip-clash.json");
    let from_file = lvsdr(&["check", path.to_str().unwrap(), "--format", "json"]);
    let bytes = std::fs::read(&path).unwrap();
    let from_stdin =
        lvsdr_with(&["check", "-", "--format", "json", "--stdin-filename", path.to_str().unwrap()], &[], Some(&bytes));
    assert_eq!(from_file.status, 1);
    let located: Value = serde_json::from_str(&from_file.stdout).unwrap();
    assert!(located["diagnostics"].as_array().unwrap().iter().all(|d| d["line"].is_u64()), "{}", from_file.stdout);
    assert_eq!(from_file.stdout, from_stdin.stdout);
    let human = lvsdr(&["check", path.to_str().unwrap()]);
    assert!(human.stderr.contains(" | "), "no source line quoted: {}", human.stderr);
}

/// Runs lvsdr under strace with one fault injected (`inject=...`), on `path`'s system
/// calls only when given (the dynamic loader reads libraries with the same calls).
fn lvsdr_with_fault(fault: &str, path: Option<&Path>, args: &[&str]) -> Run {
    let mut strace = Command::new("strace");
    strace.args(["-f", "-qq", "-o", "/dev/null"]);
    if let Some(path) = path {
        strace.arg("-P").arg(path);
    }
    strace
        .args(["-e", fault, LVSDR])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("strace runs (apt-get install strace; .ci/run installs it)")
        .into()
}

/// Faults where the change promises something: a file that cannot be read again (its
/// second read is the only `pread64`) still gives every diagnostic, without locations,
/// and no crash; `lvsdr init` whose file cannot be made durable exits 2 and leaves no
/// file behind, so a second `init` is not refused.
#[test]
fn faults_in_rereading_and_init_keep_their_promises() {
    let fixtures = Path::new(EXAMPLE).parent().unwrap();
    let path = fixtures.join("invalid/vip-clash.json");
    let run = lvsdr_with_fault(
        "inject=pread64:error=EIO",
        Some(&path),
        &["check", path.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    let diagnostics = value["diagnostics"].as_array().unwrap();
    assert!(
        !diagnostics.is_empty() && diagnostics.iter().all(|d| d["code"] == "E0014" && d["line"].is_null()),
        "{}",
        run.stdout
    );

    let dir = scratch("init-fault");
    let target = dir.join("cluster.yaml");
    let run = lvsdr_with_fault("inject=fsync:error=EIO", None, &["init", target.to_str().unwrap()]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("E0042"), "{}", run.stderr);
    assert!(!target.exists(), "a failed init left {}", target.display());
    assert_eq!(lvsdr(&["init", target.to_str().unwrap()]).status, 0);
}

/// `verify` finds a host's files as the tree says (a block among the host's own lines
/// included), and each drift: content, mode, a missing file, a block gone.
#[test]
fn verify_finds_each_drift() {
    let dir = scratch("verify");
    let tree = dir.join("tree");
    assert_eq!(lvsdr(&["compile", EXAMPLE, "-o", tree.to_str().unwrap()]).status, 0);
    let index: Value = serde_json::from_str(&std::fs::read_to_string(tree.join("index.json")).unwrap()).unwrap();
    let root = dir.join("root");
    // web1 as a user installs it: files copied with their modes, blocks appended to the
    // host's own files.
    let server = index["servers"].as_array().unwrap().iter().find(|s| s["name"] == "web1").unwrap();
    for a in server["artifacts"].as_array().unwrap() {
        let target = root.join(a["install_path"].as_str().unwrap().trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let body = std::fs::read_to_string(tree.join(a["path"].as_str().unwrap())).unwrap();
        let text =
            if a["install"] == "block" { format!("#!/bin/sh\ntouch /var/lock/subsys/local\n{body}") } else { body };
        std::fs::write(&target, text).unwrap();
        let mode = u32::from_str_radix(a["mode"].as_str().unwrap(), 8).unwrap();
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let verify = |fmt: &str| {
        lvsdr(&["verify", tree.to_str().unwrap(), "--host", "web1", "--root", root.to_str().unwrap(), "--format", fmt])
    };
    let clean = verify("json");
    assert_eq!(clean.status, 0, "{}", clean.stdout);
    let states = |run: &Run| -> Vec<(String, String)> {
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["state"] != "ok")
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["state"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert!(states(&clean).is_empty());
    let rc_local = root.join("etc/rc.d/rc.local");
    let vips = root.join("usr/libexec/lvsdr/vips");
    std::fs::write(&vips, std::fs::read_to_string(&vips).unwrap().replace("vips up", "vips  up")).unwrap();
    std::fs::set_permissions(&rc_local, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let drifted = verify("json");
    assert_eq!(drifted.status, 1);
    let mut found = states(&drifted);
    found.sort();
    assert_eq!(
        found,
        [("rc-local".to_owned(), "mode".to_owned()), ("vips".to_owned(), "changed".to_owned())],
        "{}",
        drifted.stdout
    );
    std::fs::write(&rc_local, "#!/bin/sh\n").unwrap();
    std::fs::remove_file(&vips).unwrap();
    let human = verify("human");
    assert_eq!(human.status, 1);
    assert!(
        human.stdout.contains("MISSING  vips /usr/libexec/lvsdr/vips")
            && human.stdout.contains("MISSING  rc-local /etc/rc.d/rc.local")
            && human.stdout.ends_with("web1: drift\n"),
        "{}",
        human.stdout
    );
    assert_eq!(lvsdr(&["verify", tree.to_str().unwrap(), "--host", "nobody"]).status, 2);
}

/// One command's `--help`, read into its parts: what clap renders from the command-line
/// definitions, the same source as the man pages and completions.
struct Help {
    /// The paragraphs before `Usage:`.
    about: Vec<String>,
    usage: String,
    /// `Arguments:`, `Options:` and `Commands:`: each entry's head (`-o, --out <OUT>`) and
    /// its text, dedented.
    sections: Vec<(String, Vec<(String, String)>)>,
    /// What follows the last section (`after_long_help`): paragraphs and examples.
    after: String,
}

fn help_of(args: &[&str]) -> Help {
    let run = Command::new(LVSDR)
        .args(args)
        .arg("--help")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .output()
        .expect("lvsdr runs");
    assert!(run.status.success(), "lvsdr {args:?} --help failed");
    let text = String::from_utf8(run.stdout).expect("help is UTF-8");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut help = Help { about: Vec::new(), usage: String::new(), sections: Vec::new(), after: String::new() };
    let mut at = 0;
    let mut paragraph = Vec::new();
    while let Some(line) = lines.get(at) {
        at += 1;
        if let Some(usage) = line.strip_prefix("Usage: ") {
            help.usage = usage.to_owned();
            break;
        }
        if line.is_empty() {
            if !paragraph.is_empty() {
                help.about.push(std::mem::take(&mut paragraph).join("\n"));
            }
        } else {
            paragraph.push(*line);
        }
    }
    let mut rest = at;
    while let Some(line) = lines.get(at) {
        at += 1;
        if line.is_empty() {
            continue;
        }
        if !matches!(*line, "Arguments:" | "Options:" | "Commands:") {
            rest = at - 1;
            break;
        }
        let mut entries: Vec<(String, String)> = Vec::new();
        while let Some(line) = lines.get(at) {
            if !line.is_empty() && !line.starts_with(' ') {
                break;
            }
            at += 1;
            rest = at;
            if let Some(text) = line.strip_prefix("          ") {
                let entry = entries.last_mut().expect("a description follows its entry");
                entry.1.push_str(text);
                entry.1.push('\n');
            } else if line.is_empty() {
                if let Some(entry) = entries.last_mut() {
                    entry.1.push('\n');
                }
            } else {
                entries.push((line.trim().to_owned(), String::new()));
            }
        }
        help.sections.push((line.trim_end_matches(':').to_owned(), entries));
    }
    help.after = lines[rest.min(lines.len())..].join("\n").trim().to_owned();
    help
}

/// `docs/commands.md`: every command's `--help` as Markdown.
fn commands_markdown() -> String {
    let top = help_of(&[]);
    let commands: Vec<(String, String)> = top
        .sections
        .iter()
        .filter(|(name, _)| name == "Commands")
        .flat_map(|(_, entries)| entries.iter())
        .filter_map(|(head, _)| {
            let (name, about) = head.split_once("  ")?;
            (name != "help").then(|| (name.to_owned(), about.trim().to_owned()))
        })
        .collect();
    let global: Vec<&String> =
        top.sections.iter().filter(|(name, _)| name == "Options").flat_map(|(_, e)| e.iter().map(|(h, _)| h)).collect();
    let mut out = String::from(
        "# lvsdr commands\n\n<!-- Generated from lvsdr's command-line definitions (clap, through `lvsdr COMMAND --help`) by \
         compiler/tests/cli.rs; do not edit. Regenerate: LVSDR_UPDATE_DOCS=1 cargo test --test cli commands_md -->\n\n\
         Every command and option, as `lvsdr --help` and `lvsdr COMMAND --help` print them; the man pages \
         (`lvsdr man`, `lvsdr man COMMAND`) say the same. How the commands fit together, exit statuses, \
         diagnostics and `--format json`: [cli.md](cli.md).\n\n| command | what it does |\n| --- | --- |\n",
    );
    for (name, about) in &commands {
        out += &format!("| [`lvsdr {name}`](#lvsdr-{name}) | {} |\n", about.replace('|', "\\|"));
    }
    out += "\nThe options under [`lvsdr`](#lvsdr) are global: every command takes them.\n";
    let mut render = |title: &str, help: &Help, skip: &[&String]| {
        out += &format!("\n## {title}\n\n");
        for paragraph in &help.about {
            out += &format!("{paragraph}\n\n");
        }
        out += &format!("```text\n{}\n```\n", help.usage);
        for (section, entries) in &help.sections {
            let entries: Vec<_> = entries.iter().filter(|(head, _)| !skip.contains(&head)).collect();
            if section == "Commands" || entries.is_empty() {
                continue;
            }
            out += &format!("\n{section}:\n\n");
            for (head, text) in entries {
                let text = text.trim();
                if text.is_empty() {
                    out += &format!("- `{head}`\n");
                } else {
                    let body: Vec<String> =
                        text.lines().map(|l| if l.is_empty() { String::new() } else { format!("  {l}") }).collect();
                    out += &format!("- `{head}`\n\n{}\n\n", body.join("\n"));
                }
            }
        }
        for block in help.after.split("\n\n").filter(|b| !b.is_empty()) {
            let (first, tail) = block.split_once('\n').unwrap_or((block, ""));
            if !tail.is_empty() && tail.lines().all(|l| l.starts_with("  ")) {
                let code: Vec<&str> = tail.lines().map(|l| &l[2..]).collect();
                out += &format!("\n{first}\n\n```text\n{}\n```\n", code.join("\n"));
            } else {
                out += &format!("\n{block}\n");
            }
        }
    };
    render("lvsdr", &top, &[]);
    for (name, _) in &commands {
        render(&format!("lvsdr {name}"), &help_of(&[name]), &global);
    }
    let mut out: String = out.lines().map(|l| format!("{l}\n")).collect::<String>().replace("\n\n\n", "\n\n");
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// `docs/commands.md` is every command's `--help`, generated: a test fails when the
/// committed file differs, and `LVSDR_UPDATE_DOCS=1` rewrites it.
#[test]
fn commands_md_is_generated_from_the_command_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/commands.md");
    let generated = commands_markdown();
    if std::env::var_os("LVSDR_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/commands.md is written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/commands.md is stale: regenerate it with LVSDR_UPDATE_DOCS=1 cargo test --test cli commands_md"
    );
}
