//! `lvsdr verify`'s IO: a host's installed files read under a root and compared with the
//! tree (content by SHA-256, block by block, and mode); on the host itself also the units
//! its enable steps enable (`systemctl is-enabled`: a real server's lvsdr units, a
//! director's keepalived) and a real server's VIPs (`vips status --json`).

use lvsdr::contract::{
    ArtifactEntry, BlockMarkers, Index, InstallKind, Step, VerifyFile, VerifyResult, VerifyState, VerifyUnit,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The host NAME of the tree at TREE, read under ROOT.
pub fn inspect(tree: &Path, host: &str, root: &Path) -> Result<VerifyResult, String> {
    let text = std::fs::read_to_string(tree.join(lvsdr::contract::INDEX_FILE))
        .map_err(|e| format!("{}: {e}", tree.join(lvsdr::contract::INDEX_FILE).display()))?;
    let index: Index = serde_json::from_str(&text).map_err(|e| format!("index.json: {e}"))?;
    let (artifacts, enable, server): (&[ArtifactEntry], &[Step], bool) =
        if let Some(s) = index.servers.iter().find(|s| s.name == host) {
            (&s.artifacts, &s.steps.enable, true)
        } else if let Some(d) = index.directors.iter().find(|d| d.name == host) {
            (&d.artifacts, &d.steps.enable, false)
        } else {
            return Err(format!("{host} is no host of cluster {}", index.cluster));
        };
    let files: Vec<VerifyFile> =
        artifacts.iter().map(|a| file(tree, root, a, &index.block_markers)).collect::<Result<_, _>>()?;
    let live = root == Path::new("/");
    let units = if live { units(enable) } else { Vec::new() };
    let vips = if live && server { vips_status() } else { None };
    let ok = files.iter().all(|f| f.state == VerifyState::Ok)
        && units.iter().all(|u| u.ok)
        && vips.as_ref().is_none_or(|v| v.get("ok") == Some(&serde_json::Value::Bool(true)));
    Ok(VerifyResult {
        host: host.to_owned(),
        root: root.display().to_string(),
        ok,
        files,
        units,
        vips,
        diagnostics: Vec::new(),
    })
}

fn file(tree: &Path, root: &Path, a: &ArtifactEntry, markers: &BlockMarkers) -> Result<VerifyFile, String> {
    let expected = std::fs::read_to_string(tree.join(&a.path)).map_err(|e| format!("{}: {e}", a.path))?;
    let installed = root.join(a.install_path.trim_start_matches('/'));
    let found = std::fs::read(&installed).ok();
    let found_mode = std::fs::metadata(&installed).ok().map(|m| format!("{:04o}", m.permissions().mode() & 0o7777));
    let state = match &found {
        None => VerifyState::Missing,
        Some(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let content = match a.install {
                InstallKind::File => Some(lvsdr::sha256_hex(text.as_bytes()) == a.sha256),
                InstallKind::Block => block(&text, markers).map(|b| b == expected),
            };
            match content {
                None => VerifyState::Missing,
                Some(false) => VerifyState::Changed,
                Some(true) if found_mode.as_deref() != Some(a.mode.as_str()) => VerifyState::Mode,
                Some(true) => VerifyState::Ok,
            }
        }
    };
    Ok(VerifyFile {
        id: a.id.clone(),
        install_path: a.install_path.clone(),
        install: a.install,
        state,
        expected_mode: a.mode.clone(),
        found_mode,
    })
}

/// The cluster's block in a host file: from its begin marker line through its end marker
/// line, each line with its newline.
fn block(text: &str, markers: &BlockMarkers) -> Option<String> {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if bare == markers.begin {
            inside = true;
        }
        if inside {
            out.push_str(line);
            if bare == markers.end {
                return Some(out);
            }
        }
    }
    None
}

/// `systemctl is-enabled` for every unit the enable steps enable.
fn units(enable: &[Step]) -> Vec<VerifyUnit> {
    let mut units = Vec::new();
    for step in enable {
        if step.argv.len() > 2 && step.argv[0].ends_with("/systemctl") && step.argv[1] == "enable" {
            for unit in &step.argv[2..] {
                let state = std::process::Command::new(&step.argv[0])
                    .args(["is-enabled", unit])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .unwrap_or_else(|e| format!("systemctl: {e}"));
                units.push(VerifyUnit { unit: unit.clone(), ok: state == "enabled", state });
            }
        }
    }
    units
}

/// The real server's own view of its VIPs.
fn vips_status() -> Option<serde_json::Value> {
    let out = std::process::Command::new(lvsdr::VIPS_SCRIPT).args(["status", "--json"]).output().ok()?;
    serde_json::from_slice(&out.stdout).ok()
}
