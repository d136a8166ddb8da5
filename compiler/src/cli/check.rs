//! `lvsdr check`: the manifest validated, nothing written.

use super::exit::{ExitStatus, Failure};
use super::manifest::{Loaded, WhenClean};
use super::Settings;
use lvsdr::contract::CheckResult;
use lvsdr::{has_errors, report};

/// Validate MANIFEST only.
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  lvsdr check cluster.json\n  lvsdr check cluster.yaml --deny-warnings --format github    in a GitHub Actions step\n  git show HEAD:cluster.json | lvsdr check - --stdin-filename cluster.json"
)]
pub struct Args {
    /// The manifest, or - for standard input.
    manifest: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let Loaded { cluster, diagnostics } = settings.reading.load(printer, &args.manifest, WhenClean::Summary)?;
    let valid = cluster.is_some();
    // The model is done with, and the process ends here: the system takes its memory back
    // at once, where freeing it piece by piece would cost time.
    std::mem::forget(cluster);
    if printer.is_json() {
        printer.json(&CheckResult { valid, diagnostics: report::json_diagnostics(&diagnostics) });
    }
    Ok(if has_errors(&diagnostics) { ExitStatus::Invalid } else { ExitStatus::Success })
}
