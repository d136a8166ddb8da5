//! The `lvsdr` command line: parses it, runs the command it names, and exits with the
//! command's status. Each command is a module of `cli/`.
//!
//! Exit codes: 0 success, 1 invalid manifest (or, for `compile --check` and
//! `diff --exit-code`, a difference), 2 usage or IO error.

mod cli;

use clap::{CommandFactory, Parser};
use cli::exit::{ExitStatus, Failure};
use cli::printer::Format;
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // `COMPLETE=bash lvsdr` prints the shell's registration; the shell then calls lvsdr
    // with COMPLETE set for each completion (server names, artifact ids, codes).
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return cli::printer::clap_failure(error).into(),
    };
    let (settings, command) = cli.into_parts();
    let printer = &settings.printer;
    // nagios and prometheus say what a probe found; no other command has such a result.
    if matches!(printer.format(), Format::Nagios | Format::Prometheus) && !matches!(command, Command::Probe(_)) {
        printer.note(format_args!("{}", Failure::usage("--format nagios and prometheus are for lvsdr probe")));
        return ExitStatus::Error.into();
    }
    let outcome = match command {
        Command::Compile(args) => cli::compile::run(args, &settings),
        Command::Check(args) => cli::check::run(args, &settings),
        Command::Render(args) => cli::render::run(args, &settings),
        Command::Diff(args) => cli::diff::run(args, &settings),
        Command::Schema(args) => cli::schema::run(args, &settings),
        Command::Explain(args) => cli::explain::run(args, &settings),
        Command::Completions(args) => cli::completions::run(args, &settings),
        Command::Show(args) => cli::show::run(args, &settings),
        Command::Probe(args) => cli::probe::run(args, &settings),
        Command::Verify(args) => cli::verify::run(args, &settings),
        Command::Init(args) => cli::init::run(args, &settings),
        Command::Man(args) => cli::man::run(args, &settings),
    };
    match outcome {
        Ok(status) => status.into(),
        Err(failure) => printer.failure(&failure).into(),
    }
}
