//! The bounded property run: manifests generated from seeded bytes through parse →
//! validate → emit. No stage may panic, and every tree emitted must pass the tree
//! invariants and the real tools (`sh -n`, `dash -n`, `nft -c` as root).
//!
//! `LVSDR_PROPERTY_CASES` (default 1000) sets how many; `LVSDR_PROPERTY_SEED` the first
//! seed (default 0), so a failure reported as "seed N" replays with that seed and one
//! case. The fuzz target in `fuzz/` drives the same generator with libFuzzer.

mod support {
    pub mod checks;
    pub mod generate;
}

use arbitrary::Unstructured;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Bytes for one case: splitmix64 from the seed, so every machine sees the same cases.
fn bytes(seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
    (0..512)
        .flat_map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)).to_le_bytes()
        })
        .collect()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The generator's good values are the keyword lists themselves; its bad examples of a
/// platform or tool must stay bad when a release or tool is added.
#[test]
fn the_generators_bad_words_are_no_keywords() {
    use lvsdr::testing::{Platform, SuppressionTool};
    let platforms = &support::generate::PLATFORMS;
    let tools = &support::generate::SUPPRESSION;
    assert!(platforms.1.iter().all(|bad| Platform::parse(bad).is_none()), "a bad platform example is a release");
    assert!(tools.1.iter().all(|bad| SuppressionTool::parse(bad).is_none()), "a bad tool example is a tool");
}

#[test]
fn generated_manifests_never_panic_and_emit_what_the_tools_accept() {
    let cases = env("LVSDR_PROPERTY_CASES", 1000);
    let first = env("LVSDR_PROPERTY_SEED", 0);
    let scratch = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("property");
    let (mut valid, mut tools) = (0, 0);
    let mut codes = std::collections::BTreeSet::new();
    for seed in first..first + cases {
        let data = bytes(seed);
        let text = support::generate::manifest(&mut Unstructured::new(&data)).expect("512 bytes are enough");
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let checked = lvsdr::check_bytes(&text);
            let tree = checked.cluster.as_ref().map(lvsdr::Cluster::tree);
            (checked.diagnostics, tree)
        }));
        let (diagnostics, tree) = outcome
            .unwrap_or_else(|_| panic!("seed {seed} panicked on this manifest:\n{}", String::from_utf8_lossy(&text)));
        codes.extend(diagnostics.iter().map(|d| d.code));
        if std::env::var_os("LVSDR_PROPERTY_SHOW").is_some() {
            eprintln!("seed {seed}: {:?}", diagnostics.iter().map(|d| d.code.as_str()).collect::<Vec<_>>());
        }
        let Some(tree) = tree else { continue };
        valid += 1;
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).unwrap();
        let checked = support::checks::tree_invariants(&tree)
            .and_then(|()| support::checks::real_tools(&tree, &scratch))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\nmanifest:\n{}", String::from_utf8_lossy(&text)));
        tools += checked;
    }
    eprintln!(
        "property run: {cases} cases from seed {first}: {valid} valid clusters, {tools} real-tool checks passed, \
         {} distinct diagnostic codes met{}",
        codes.len(),
        if support::checks::running_as_root() { "" } else { " (nft -c skipped: not root)" }
    );
    // The generator must reach both sides, or the run proves little.
    assert!(valid > cases / 20, "only {valid} of {cases} generated manifests were valid");
    assert!(codes.len() >= 15, "the generated manifests met only {} diagnostic codes", codes.len());
}
