//! The writer's promises: exact modes, atomic replacement of its own trees, and refusal
//! to touch anything it did not write.

use camino::Utf8PathBuf;
use lvsdr::write::{write_tree, WriteError};
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn example_tree() -> lvsdr::Tree {
    let bytes = fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json")).unwrap();
    let checked = lvsdr::check_bytes(&bytes);
    checked.cluster.as_ref().expect("the example is valid").tree()
}

fn scratch(name: &str) -> Utf8PathBuf {
    let dir = Utf8PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("writer").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn refused(result: Result<Vec<String>, WriteError>) -> String {
    match result {
        Err(WriteError::Foreign { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn modes_are_exact_whatever_the_umask() {
    let out = scratch("modes").join("out");
    // umask is process-wide; this is the only test here that changes it, and the
    // others do not depend on it.
    let old = unsafe { libc_umask(0o077) };
    let result = write_tree(&example_tree(), &out);
    unsafe { libc_umask(old) };
    result.unwrap();
    let mode = |p: &str| fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("web3/etc/sysconfig/arptables"), 0o600);
    assert_eq!(mode("web1/fragments/etc/rc.d/rc.local"), 0o755);
    assert_eq!(mode("web1/etc/sysconfig/network-scripts/ifcfg-eth0:100"), 0o644);
    assert_eq!(mode("web3/usr/libexec/lvsdr/vips"), 0o755);
    assert_eq!(mode("web3/etc/systemd/system/lvsdr-vips.service"), 0o644);
    assert_eq!(mode("index.json"), 0o644);
    assert_eq!(mode("web3/etc"), 0o755);
}

extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

#[test]
fn replaces_its_own_tree_and_leaves_nothing_beside_it() {
    let parent = scratch("replace");
    let out = parent.join("out");
    write_tree(&example_tree(), &out).unwrap();
    fs::write(out.join("web1/etc/sysconfig/arptables"), "stale").unwrap();
    write_tree(&example_tree(), &out).unwrap();
    assert_ne!(fs::read_to_string(out.join("web1/etc/sysconfig/arptables")).unwrap(), "stale");
    let mut entries: Vec<_> = fs::read_dir(&parent).unwrap().map(|e| e.unwrap().file_name()).collect();
    entries.sort();
    // The lock file stays: removing it would let two compiles lock two different files.
    assert_eq!(entries, vec![".out.lvsdr-lock", "out"], "no staging or old tree is left behind");
}

#[test]
fn refuses_a_directory_it_did_not_write() {
    let out = scratch("foreign").join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    assert!(refused(write_tree(&example_tree(), &out)).contains("did not write it"));
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn refuses_a_file_added_to_its_tree() {
    let out = scratch("added").join("out");
    write_tree(&example_tree(), &out).unwrap();
    fs::write(out.join("web1/extra.conf"), "mine").unwrap();
    assert!(refused(write_tree(&example_tree(), &out)).contains("web1/extra.conf"));
    assert!(out.join("web1/extra.conf").exists());
}

#[test]
fn refuses_a_symlinked_out_and_planted_symlinks() {
    let parent = scratch("symlinks");
    let real = parent.join("real");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(&real, parent.join("link")).unwrap();
    assert!(refused(write_tree(&example_tree(), &parent.join("link"))).contains("symbolic link"));

    let out = parent.join("out");
    write_tree(&example_tree(), &out).unwrap();
    let target = parent.join("outside");
    fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&target, out.join("web1/escape")).unwrap();
    assert!(refused(write_tree(&example_tree(), &out)).contains("web1/escape"));
    // Nothing was written through the link, and the planted link is left as it was.
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    assert!(fs::symlink_metadata(out.join("web1/escape")).unwrap().file_type().is_symlink());
}

/// The lock file another lvsdr would hold, held here.
fn hold_lock(parent: &Utf8PathBuf, name: &str) -> fs::File {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(parent.join(format!(".{name}.lvsdr-lock")))
        .unwrap();
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    file
}

#[test]
fn a_second_compile_fails_clearly_and_deletes_nothing() {
    let parent = scratch("busy");
    let out = parent.join("out");
    // A live compile, in this or another PID namespace: its lock and its staging directory.
    let _held = hold_lock(&parent, "out");
    let staging = parent.join(".out.lvsdr-staging-1");
    fs::create_dir_all(staging.join("web1")).unwrap();
    match write_tree(&example_tree(), &out) {
        Err(e @ WriteError::Busy { .. }) => assert!(e.to_string().contains("being written by another lvsdr")),
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(staging.join("web1").is_dir(), "the live compile's staging directory was touched");
    assert!(!out.exists());
}

#[test]
fn what_a_dead_compile_left_is_removed_once_the_lock_is_free() {
    let parent = scratch("stale");
    let out = parent.join("out");
    // PID 1 exists in every namespace: staleness is the lock's to say, not /proc's.
    fs::create_dir_all(parent.join(".out.lvsdr-staging-1/web1")).unwrap();
    write_tree(&example_tree(), &out).unwrap();
    assert!(!parent.join(".out.lvsdr-staging-1").exists());
    assert!(out.join("index.json").is_file());
}

#[test]
fn a_fallback_swap_killed_between_renames_is_recovered() {
    let parent = scratch("fallback");
    let out = parent.join("out");
    write_tree(&example_tree(), &out).unwrap();
    let old_index = fs::read_to_string(out.join("index.json")).unwrap();
    // Killed after the first rename: OUT is missing, the old tree is aside.
    let aside = parent.join(".out.lvsdr-old-4242");
    fs::rename(&out, &aside).unwrap();
    write_tree(&example_tree(), &out).unwrap();
    assert!(!aside.exists());
    assert_eq!(fs::read_to_string(out.join("index.json")).unwrap(), old_index);
    // Killed after the second: OUT is the new tree, the old one still aside.
    fs::create_dir_all(aside.join("web1")).unwrap();
    write_tree(&example_tree(), &out).unwrap();
    assert!(!aside.exists());
}

#[test]
fn an_empty_directory_in_out_is_refused_not_lost() {
    let out = scratch("emptydir").join("out");
    write_tree(&example_tree(), &out).unwrap();
    fs::create_dir(out.join("web1").join("keep-me")).unwrap();
    assert!(refused(write_tree(&example_tree(), &out)).contains("web1/keep-me/"));
    assert!(out.join("web1").join("keep-me").is_dir());
}

#[test]
fn check_sees_empty_directories_and_directory_modes() {
    let out = scratch("dirmodes").join("out");
    let tree = example_tree();
    write_tree(&tree, &out).unwrap();
    fs::set_permissions(out.join("web1"), fs::Permissions::from_mode(0o777)).unwrap();
    fs::create_dir(out.join("web2").join("empty")).unwrap();
    let on_disk = lvsdr::write::read_tree(&out).unwrap();
    let changes = lvsdr::review::compare(&on_disk, &tree, true);
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["web1/", "web2/empty/"], "{changes:?}");
}

#[test]
fn out_with_a_trailing_dot_is_the_directory_itself() {
    let parent = scratch("dot");
    write_tree(&example_tree(), &parent.join("out")).unwrap();
    write_tree(&example_tree(), &Utf8PathBuf::from(format!("{parent}/out/."))).unwrap();
    assert!(parent.join("out").join("index.json").is_file());
}

/// A cluster of `n` real servers with `n` VIPs of fifty real servers each, so that its
/// directors' files pass a megabyte and a half from about 200 servers.
fn large_manifest(n: usize, weight_of_first: u16) -> String {
    let servers: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let platform = ["el5", "el6", "el7", "el8", "el9"][i % 5];
            serde_json::json!({"name": format!("app-{i:05}"), "address": format!("10.20.{}.{}/16", i / 250, i % 250 + 2),
                "platform": platform})
        })
        .collect();
    let services: Vec<serde_json::Value> = (0..n)
        .map(|v| {
            let members: Vec<serde_json::Value> = (0..50)
                .map(|k| {
                    let weight = if v == 0 && k == 0 { weight_of_first } else { 1 + (k % 5) as u16 };
                    serde_json::json!({"server": format!("app-{:05}", (v * 10 + k) % n), "weight": weight})
                })
                .collect();
            serde_json::json!({"name": format!("svc-{v:05}"), "vip": format!("10.20.{}.{}", 200 + v / 250, v % 250 + 2), "port": 80,
                "real_servers": members})
        })
        .collect();
    let directors: Vec<serde_json::Value> = (1..=2)
        .map(|d| serde_json::json!({"name": format!("lvs{d}"), "address": format!("10.20.255.{d}/16")}))
        .collect();
    serde_json::json!({"version": 1, "cluster": "large", "directors": directors, "services": services,
        "real_servers": servers})
    .to_string()
}

fn cluster_of(text: &str) -> lvsdr::Cluster {
    let checked = lvsdr::check_bytes(text.as_bytes());
    checked.cluster.unwrap_or_else(|| panic!("the generated manifest is valid: {:?}", checked.diagnostics))
}

/// A director's files of several MB are written and compared as they render, never whole:
/// the same bytes as the tree built in memory, unchanged ones left alone by an update, and
/// every difference `compile --check` must see in them, seen.
#[test]
fn large_director_files_stream_to_disk_and_compare_in_pieces() {
    use lvsdr::write::{check, compile, Method};
    use std::os::unix::fs::MetadataExt;
    // On tmpfs when there is one: the writer's syncfs on a disk costs seconds here.
    let shm = Utf8PathBuf::from("/dev/shm");
    let out = if shm.is_dir() {
        let dir = shm.join(format!("lvsdr-writer-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("out")
    } else {
        scratch("large").join("out")
    };
    let (text, changed) = (large_manifest(200, 1), large_manifest(200, 3));
    let cluster = cluster_of(&text);
    let keepalived = out.join("lvs1/etc/keepalived/keepalived.conf");
    assert_eq!(compile(&cluster, "one", &out).unwrap().method, Method::WholeTree);
    assert!(fs::metadata(&keepalived).unwrap().len() > 3 << 19, "the test needs a director file over the limits");
    let in_memory = cluster.tree();
    let none = |changes: Vec<lvsdr::review::FileChange>| assert!(changes.is_empty(), "{changes:?}");
    none(lvsdr::review::compare(&lvsdr::write::read_tree(&out).unwrap(), &in_memory, true));
    none(check(&cluster, &out).unwrap());

    // One server's weight changes: the directors' files are staged whole, the rest kept.
    let ipvsadm = out.join("lvs1/etc/sysconfig/ipvsadm");
    let before = |path: &Utf8PathBuf| fs::metadata(path).unwrap().ino();
    let (keepalived_inode, vips_inode) = (before(&keepalived), before(&out.join("app-00001/usr/libexec/lvsdr/vips")));
    let new_cluster = cluster_of(&changed);
    assert_eq!(check(&new_cluster, &out).unwrap().iter().filter(|c| c.path.starts_with("lvs")).count(), 4);
    let written = compile(&new_cluster, "two", &out).unwrap();
    assert_eq!((written.method, written.written), (Method::Update, 5), "four director files and index.json");
    assert_ne!(before(&keepalived), keepalived_inode);
    assert_eq!(before(&out.join("app-00001/usr/libexec/lvsdr/vips")), vips_inode);
    none(lvsdr::review::compare(&lvsdr::write::read_tree(&out).unwrap(), &new_cluster.tree(), true));

    // An update in which the large files did not change stages them, sees they did not,
    // and removes them again: their inodes stay.
    let (keepalived_inode, ipvsadm_inode) = (before(&keepalived), before(&ipvsadm));
    let mut renamed: serde_json::Value = serde_json::from_str(&changed).unwrap();
    renamed["real_servers"][7]["interface"] = "eth1".into();
    let renamed_cluster = cluster_of(&renamed.to_string());
    let written = compile(&renamed_cluster, "three", &out).unwrap();
    assert_eq!(written.method, Method::Update);
    assert_eq!((before(&keepalived), before(&ipvsadm)), (keepalived_inode, ipvsadm_inode));
    let beside: Vec<String> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("staging"))
        .collect();
    assert_eq!(beside, Vec::<String>::new(), "nothing is left staged");

    // What --check must see in a large file: one byte changed deep inside, the file cut
    // short, a byte added, a mode; each once, with a diff where the text differs.
    let original = fs::read(&keepalived).unwrap();
    let mut changed_byte = original.clone();
    *changed_byte.iter_mut().rev().find(|b| **b == b'1').unwrap() = b'7';
    let cut_short = original[..original.len() - 10].to_vec();
    let longer = [original.as_slice(), b"\n"].concat();
    for (what, bytes) in [("a byte changed", &changed_byte), ("cut short", &cut_short), ("a byte added", &longer)] {
        fs::write(&keepalived, bytes).unwrap();
        let changes = check(&renamed_cluster, &out).unwrap();
        assert_eq!(changes.len(), 1, "{what}: {changes:?}");
        assert_eq!(changes[0].path, "lvs1/etc/keepalived/keepalived.conf", "{what}");
        assert!(changes[0].diff.contains("\n-") || changes[0].diff.contains("\n+"), "{what}: {}", changes[0].diff);
    }
    fs::write(&keepalived, &original).unwrap();
    fs::set_permissions(&keepalived, fs::Permissions::from_mode(0o666)).unwrap();
    let changes = check(&renamed_cluster, &out).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].old_mode, changes[0].new_mode, changes[0].diff.as_str()), (Some(0o666), Some(0o644), ""));
    fs::set_permissions(&keepalived, fs::Permissions::from_mode(0o644)).unwrap();

    // Through a pending update journal (as a compile killed after its commit leaves it),
    // --check compares the staged large file, as it streams: equal, then one byte off.
    let (parent, staging) = (out.parent().unwrap(), ".out.lvsdr-staging-1");
    fs::create_dir(parent.join(staging)).unwrap();
    let journal = format!("lvsdr-journal 1\nstaging {staging}\nput k lvs1/etc/keepalived/keepalived.conf\nend\n");
    fs::write(parent.join(".out.lvsdr-journal"), journal).unwrap();
    fs::write(&keepalived, b"(the old file, which the journal replaces)\n").unwrap();
    fs::write(parent.join(staging).join("k"), &original).unwrap();
    // Its mode is set, not left to the umask, which other tests of this process change.
    fs::set_permissions(parent.join(staging).join("k"), fs::Permissions::from_mode(0o644)).unwrap();
    none(check(&renamed_cluster, &out).unwrap());
    fs::write(parent.join(staging).join("k"), &changed_byte).unwrap();
    let changes = check(&renamed_cluster, &out).unwrap();
    assert_eq!(changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["lvs1/etc/keepalived/keepalived.conf"]);
    assert!(changes[0].diff.contains("\n-"), "{}", changes[0].diff);
    fs::remove_file(parent.join(".out.lvsdr-journal")).unwrap();
    fs::write(&keepalived, &original).unwrap();

    // A large file the tree does not have is shown whole, as removed.
    fs::write(out.join("lvs1/etc/keepalived/keepalived.conf.bak"), &original).unwrap();
    let changes = check(&renamed_cluster, &out).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].diff.lines().filter(|l| l.starts_with('-')).count() > 1000, "the stray's text is in the diff");
    fs::remove_dir_all(out.parent().unwrap()).unwrap();
}
