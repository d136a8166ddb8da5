//! The writer's promises: exact modes, atomic replacement of its own trees, and refusal
//! to touch anything it did not write.

use camino::Utf8PathBuf;
use lvsdr::write::{write_tree, WriteError};
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn example_tree() -> lvsdr::tree::Tree {
    let bytes = fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/example.json")).unwrap();
    let checked = lvsdr::check_bytes(&bytes);
    lvsdr::tree::build(checked.cluster.as_ref().expect("the example is valid"))
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
