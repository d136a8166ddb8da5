//! `lvsdr diff`: what changes, host by host and artifact by artifact, from one manifest's
//! artifacts to another's, and what each host runs to apply it.

use super::exit::{ExitStatus, Failure};
use super::manifest::WhenClean;
use super::Settings;
use lvsdr::contract::DiffResult;
use lvsdr::{report, review};

/// Show what changes, server by server and artifact by artifact, from OLD's artifacts to NEW's.
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  git show origin/main:cluster.json > /tmp/base.json && lvsdr diff /tmp/base.json cluster.json\n  lvsdr diff old.yaml new.yaml --exit-code         exit 1 when any artifact changes"
)]
pub struct Args {
    /// The manifest before the change.
    old: String,
    /// The manifest after the change.
    new: String,
    /// Exit 1 when anything changes (as `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let (printer, reading) = (&settings.printer, &settings.reading);
    let old = reading.load(printer, &args.old, WhenClean::Silent)?;
    let new = reading.load(printer, &args.new, WhenClean::Silent)?;
    let mut diagnostics = old.diagnostics;
    diagnostics.extend(new.diagnostics);
    let (Some(old_cluster), Some(new_cluster)) = (old.cluster, new.cluster) else {
        let result = |diagnostics| DiffResult { changes: None, actions: None, diagnostics };
        return printer.invalid(result, &diagnostics);
    };
    let (old_tree, new_tree) = (old_cluster.tree(), new_cluster.tree());
    let changes = review::compare(&old_tree, &new_tree, false);
    let actions = review::actions(&old_tree, &new_tree, &changes);
    let json = |actions| DiffResult {
        changes: Some(review::entries(&changes)),
        actions: Some(actions),
        diagnostics: report::json_diagnostics(&diagnostics),
    };
    let human = |actions: Vec<_>| match changes.is_empty() {
        true => {
            printer.note(format_args!("no artifact changes"));
            Ok(())
        }
        false => printer.stdout((printer.review(&changes) + &review::human_actions(&actions)).as_bytes()),
    };
    printer.result(actions, json, human)?;
    Ok(ExitStatus::differs_if(args.exit_code && !changes.is_empty()))
}
