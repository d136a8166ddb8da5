//! `lvsdr man`: the man pages, lvsdr(1), lvsdr-COMMAND(1) and lvsdr(5).

use super::exit::{ExitStatus, Failure};
use super::{Cli, Settings};
use clap::CommandFactory;
use lvsdr::contract::ManResult;

/// Print the man page (roff): lvsdr(1), lvsdr-COMMAND(1) for one command, or lvsdr(5)
/// for `manifest` (every key of the manifest).
#[derive(clap::Args)]
pub struct Args {
    /// The command whose page to print (compile, check, ...).
    command: Option<String>,
}

/// lvsdr(1), or lvsdr-COMMAND(1), which the SUBCOMMANDS section of lvsdr(1) refers to.
pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let result = |man| ManResult { man, diagnostics: Vec::new() };
    if args.command.as_deref() == Some("manifest") {
        let page = lvsdr::reference::roff(env!("CARGO_PKG_VERSION"));
        return settings.printer.text(page.into_bytes(), result);
    }
    let top = Cli::command();
    let page = match args.command.as_deref() {
        None => top,
        Some(name) => {
            let names: Vec<String> = top.get_subcommands().map(|c| c.get_name().to_owned()).collect();
            let sub = top
                .find_subcommand(name)
                .cloned()
                .ok_or_else(|| Failure::usage(format!("no command \"{name}\" (commands: {})", names.join(", "))))?;
            // clap names a page by a &'static str; this process prints one page and exits.
            let title: &'static str = Box::leak(format!("lvsdr-{}", sub.get_name()).into_boxed_str());
            sub.name(title).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff).map_err(|e| Failure::write(e.to_string()))?;
    settings.printer.text(roff, result)
}
