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

fn refused(result: Result<(), WriteError>) -> String {
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
    let entries: Vec<_> = fs::read_dir(&parent).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries, vec!["out"], "no staging or old tree is left behind");
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
