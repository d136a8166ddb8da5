//! `lvsdr completions`: a shell's completion script.

use super::exit::{ExitStatus, Failure};
use super::{Cli, Settings};
use clap::CommandFactory;
use lvsdr::contract::CompletionsResult;

/// Print a shell completion script.
#[derive(clap::Args)]
pub struct Args {
    /// The shell.
    shell: clap_complete::Shell,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "lvsdr", &mut script);
    settings.printer.text(script, |completions| CompletionsResult { completions, diagnostics: Vec::new() })
}
