//! What must hold for every emitted tree, whatever the manifest: safe relative paths,
//! LF-terminated text, an index.json as `contract::Index` writes it, and every script
//! accepted by the tool that will read it.

use lvsdr::contract::ArtifactKind;
use lvsdr::Tree;
use std::path::Path;
use std::process::Command;

/// Paths stay inside OUT and are made of plain components; text is LF-only and NUL-free.
pub fn tree_invariants(tree: &Tree) -> Result<(), String> {
    for (path, file) in &tree.files {
        let plain =
            |c: &str| !c.is_empty() && c != "." && c != ".." && c.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        if path.starts_with('/') || !path.split('/').all(plain) {
            return Err(format!("unsafe path {path:?}"));
        }
        if !file.contents.ends_with('\n') || file.contents.contains('\r') || file.contents.contains('\0') {
            return Err(format!("{path}: not LF-terminated text without CR or NUL"));
        }
        if ![0o600, 0o644, 0o755].contains(&file.mode) {
            return Err(format!("{path}: unexpected mode {:o}", file.mode));
        }
    }
    // The streamed index has the bytes of the whole index serialized at once.
    if let Some(file) = tree.files.get(lvsdr::contract::INDEX_FILE) {
        let index: lvsdr::contract::Index = serde_json::from_str(&file.contents).map_err(|e| e.to_string())?;
        if index.to_text() != file.contents {
            return Err("index.json differs from its Index serialized whole".into());
        }
    }
    Ok(())
}

/// The real tools on the emitted files, written under `scratch`: `sh -n` and `dash -n`
/// for the shell scripts and blocks (vips, rc.local, ifup-local, the NM dispatcher) and ifcfg files, `nft -c -f` for nft scripts when root (it
/// asks the kernel) (the other kinds are checked by scripts/host-check).
pub fn real_tools(tree: &Tree, scratch: &Path) -> Result<usize, String> {
    let index = tree.index().ok_or("no index.json that parses")?;
    let root = running_as_root();
    let mut checked = 0;
    for (_, artifact) in index.artifacts() {
        let path = artifact.path.as_str();
        let file = scratch.join(path.replace('/', "__"));
        std::fs::write(&file, &tree.files[path].contents).map_err(|e| e.to_string())?;
        // Every kind is named: a new one does not compile until it is placed here.
        let commands: Vec<Vec<&str>> = match artifact.kind {
            ArtifactKind::RcLocal
            | ArtifactKind::IfcfgAlias
            | ArtifactKind::Vips
            | ArtifactKind::IfupLocal
            | ArtifactKind::NmDispatcher => vec![vec!["sh", "-n"], vec!["dash", "-n"]],
            ArtifactKind::Nftables if root => vec![vec!["nft", "-c", "-f"]],
            // Left to scripts/harness (KIND_CHECKS), which has their tools and namespaces.
            ArtifactKind::Nftables
            | ArtifactKind::Arptables
            | ArtifactKind::ArptablesJf
            | ArtifactKind::SystemdDropin
            | ArtifactKind::SystemdUnit
            | ArtifactKind::LvsCf
            | ArtifactKind::Keepalived
            | ArtifactKind::Ipvsadm
            | ArtifactKind::ModulesLoad
            | ArtifactKind::FirewalldService
            | ArtifactKind::MarksNftables
            | ArtifactKind::MarksIptables
            | ArtifactKind::MarksIp6tables
            | ArtifactKind::FirewalldDirect
            | ArtifactKind::MarksUnit
            | ArtifactKind::MarksInit => vec![],
        };
        for command in commands {
            let out = Command::new(command[0])
                .args(&command[1..])
                .arg(&file)
                .output()
                .map_err(|e| format!("{}: {e}", command[0]))?;
            if !out.status.success() {
                return Err(format!(
                    "{} rejects {path}: {}\n{}",
                    command.join(" "),
                    String::from_utf8_lossy(&out.stderr),
                    tree.files[path].contents
                ));
            }
            checked += 1;
        }
    }
    Ok(checked)
}

/// `nft -c` needs CAP_NET_ADMIN; scripts/test and CI run as root.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}
