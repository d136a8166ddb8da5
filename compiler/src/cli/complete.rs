//! Dynamic shell completion: host names and artifact ids read from the manifest named on
//! the command line being completed, and diagnostic codes.

use clap_complete::engine::CompletionCandidate;
use lvsdr::{Cluster, Code};

/// The options that take a value as the next word (`--server`, `-o`, ...), from the
/// command-line definition itself.
fn valued() -> Vec<String> {
    fn collect(command: &clap::Command, out: &mut Vec<String>) {
        for arg in command.get_arguments().filter(|a| a.get_action().takes_values() && !a.is_positional()) {
            out.extend(arg.get_long().map(|l| format!("--{l}")));
            out.extend(arg.get_short().map(|s| format!("-{s}")));
        }
        for sub in command.get_subcommands() {
            collect(sub, out);
        }
    }
    let mut out = Vec::new();
    collect(&<super::Cli as clap::CommandFactory>::command(), &mut out);
    out
}

/// The words of the command line being completed: the shell runs
/// `COMPLETE=bash lvsdr -- lvsdr render cluster.json --server <cursor>`.
fn words() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args.into_iter().skip(i + 2).collect(),
        None => args.into_iter().skip(1).collect(),
    }
}

/// The manifest (the subcommand's first positional word) and the `--server` value.
fn manifest_and_server() -> (Option<String>, Option<String>) {
    let words = words();
    let valued = valued();
    let (mut positional, mut server) = (Vec::new(), None);
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        if valued.contains(word) {
            if word == "--server" {
                server = words.get(i + 1).cloned();
            }
            i += 2;
            continue;
        }
        if let Some(value) = word.strip_prefix("--server=") {
            server = Some(value.to_owned());
        } else if !word.starts_with('-') {
            positional.push(word.clone());
        }
        i += 1;
    }
    (positional.get(1).cloned(), server)
}

/// The cluster of the manifest being completed against, when it is a readable, valid file.
fn cluster(manifest: &str) -> Option<Cluster> {
    let bytes = std::fs::read(manifest).ok()?;
    lvsdr::check_bytes_within(&bytes, lvsdr::MAX_MANIFEST_BYTES, lvsdr::Syntax::of_file_name(manifest)).cluster
}

/// `--server`: every director and real server of the manifest, with its role.
pub fn host_names() -> Vec<CompletionCandidate> {
    let Some(cluster) = manifest_and_server().0.and_then(|m| cluster(&m)) else { return Vec::new() };
    cluster.hosts().map(|host| CompletionCandidate::new(host.name()).help(Some(host.role().as_str().into()))).collect()
}

/// `--artifact`: the ids of the `--server` host's artifacts, with their install paths.
pub fn artifact_ids() -> Vec<CompletionCandidate> {
    let (Some(manifest), Some(server)) = manifest_and_server() else { return Vec::new() };
    let Some(cluster) = cluster(&manifest) else { return Vec::new() };
    let Ok(host) = cluster.host(&server) else { return Vec::new() };
    let artifacts = host.artifacts();
    let places = artifacts.places();
    places.iter().map(|a| CompletionCandidate::new(a.id).help(Some(a.install_path.to_owned().into()))).collect()
}

/// `explain`: every diagnostic code with its title, and `boot`.
pub fn codes() -> Vec<CompletionCandidate> {
    Code::ALL
        .iter()
        .map(|c| CompletionCandidate::new(c.as_str()).help(Some(c.title().into())))
        .chain(std::iter::once(
            CompletionCandidate::new("boot").help(Some("how each platform boots a real server".into())),
        ))
        .collect()
}
