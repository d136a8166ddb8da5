//! libFuzzer over parse → validate → emit. The first byte picks the input: raw bytes
//! as the manifest (the parser's side), or the property test's generator driven by the
//! rest (clusters deep enough to reach lowering and the templates). No stage may panic;
//! an emitted tree must keep the tree invariants and pass `sh -n`/`dash -n`/`nft -c`.
//!
//!     cargo +nightly fuzz run manifest -- -max_total_time=300

#![no_main]

#[path = "../../compiler/tests/support/checks.rs"]
mod checks;
#[path = "../../compiler/tests/support/generate.rs"]
mod generate;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    let text = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        match generate::manifest(&mut Unstructured::new(rest)) {
            Ok(text) => text,
            Err(_) => return,
        }
    };
    let checked = lvsdr::check_bytes(&text);
    let Some(cluster) = &checked.cluster else { return };
    let tree = cluster.tree();
    checks::tree_invariants(&tree).unwrap();
    let scratch = std::env::temp_dir().join(format!("lvsdr-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    checks::real_tools(&tree, &scratch).unwrap();
});
