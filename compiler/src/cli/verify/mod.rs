//! `lvsdr verify`: a host's drift from the tree, said as a line per file, unit and VIP
//! check; `host` reads the host.

mod host;

use super::exit::{ExitStatus, Failure};
use super::Settings;
use camino::Utf8PathBuf;
use lvsdr::contract::{VerifyResult, VerifyState};

/// Drift on a host: its installed files against the tree's index.json (content and
/// mode; blocks by their markers), and on the host itself (`--root /`) its units and VIPs.
#[derive(clap::Args)]
#[command(
    after_long_help = "Exit status: 0 everything as the tree says; 1 drift; 2 usage or IO error.\n\nExamples:\n  lvsdr verify /srv/lvsdr/tree --host web1                 on web1 itself\n  lvsdr verify tree --host web1 --root /mnt/web1-image     an image or a mounted root\n  lvsdr verify tree --host web1 --format json | jq '.files[] | select(.state != \"ok\")'"
)]
pub struct Args {
    /// The output tree (a directory with index.json).
    tree: Utf8PathBuf,
    /// The real server or director to verify.
    #[arg(long)]
    host: String,
    /// Where the host's install paths are read: / (the default) is the host itself, and
    /// adds its units and VIPs.
    #[arg(long, default_value = "/")]
    root: Utf8PathBuf,
}

/// The host as the tree says, or its drift.
pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let result = host::inspect(args.tree.as_std_path(), &args.host, args.root.as_std_path()).map_err(Failure::read)?;
    let ok = result.ok;
    printer.result(result, |result| result, |result| printer.stdout(human(&result).as_bytes()))?;
    Ok(ExitStatus::differs_if(!ok))
}

/// A line per file, unit and the VIPs' status, then the verdict.
fn human(result: &VerifyResult) -> String {
    let mut text = String::new();
    for f in &result.files {
        let said = match f.state {
            VerifyState::Ok => "ok",
            VerifyState::Missing => "MISSING",
            VerifyState::Changed => "CHANGED",
            VerifyState::Mode => "MODE",
        };
        let mode = match (&f.found_mode, f.state) {
            (Some(found), VerifyState::Mode) => format!(" ({found}, the tree says {})", f.expected_mode),
            _ => String::new(),
        };
        text += &format!("{said:<8} {} {}{mode}\n", f.id, f.install_path);
    }
    for u in &result.units {
        text += &format!("{:<8} {} is {}\n", if u.ok { "ok" } else { "UNIT" }, u.unit, u.state);
    }
    if let Some(vips) = &result.vips {
        let problems: Vec<String> = vips["vips"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| Some(format!("{}: {}", v["address"].as_str()?, v["problem"].as_str()?)))
            .collect();
        if problems.is_empty() && vips.get("ok") == Some(&serde_json::Value::Bool(true)) {
            text += "ok       vips status: every VIP up and protected\n";
        } else {
            text += &format!(
                "VIPS     {}\n",
                if problems.is_empty() { "vips status failed".to_owned() } else { problems.join("; ") }
            );
        }
    }
    text += &format!("{}: {}\n", result.host, if result.ok { "as the tree says" } else { "drift" });
    text
}
