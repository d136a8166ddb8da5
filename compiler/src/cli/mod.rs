//! The `lvsdr` command line: its global options, its commands (one module each, with its
//! arguments and its run), and what they share: the printer, the reading of a manifest,
//! the exit statuses. IO is allowed here, as in main.rs.

pub mod allocator;
pub mod check;
pub mod compile;
pub mod complete;
pub mod completions;
pub mod diff;
pub mod exit;
pub mod explain;
pub mod init;
pub mod man;
pub mod manifest;
pub mod printer;
pub mod probe;
pub mod render;
pub mod schema;
pub mod show;
pub mod verify;

use clap::{Parser, Subcommand};
use manifest::{InputFormat, Reading};
use printer::{ColorChoice, Format, Printer};

#[derive(Parser)]
#[command(
    name = "lvsdr",
    version,
    about = "Compile an LVS direct-routing cluster manifest into each server's boot artifacts",
    long_about = "Compile an LVS direct-routing cluster manifest into each server's boot artifacts: \
                  ARP suppression rules, the vips script and what the platform runs it from \
                  (systemd units, rc.local, NetworkManager or ifup-local hooks) for real servers; \
                  lvs.cf or keepalived.conf and the ipvsadm table for directors.",
    after_help = "Exit status: 0 success; 1 invalid manifest, or a difference found by \
                  `compile --check` or `diff --exit-code`; 2 usage or IO error."
)]
pub struct Cli {
    /// How to print diagnostics and results: human (stderr/stdout), one JSON object on
    /// stdout, or github (human, plus GitHub Actions annotations of the diagnostics on stdout);
    /// for `probe` also nagios (the plugin convention) and prometheus (a textfile).
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colour on a terminal: auto (unless NO_COLOR is set; CLICOLOR_FORCE forces it), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Treat warnings as errors: exit 1 and write nothing when the manifest has any.
    #[arg(long, global = true)]
    deny_warnings: bool,
    /// The largest manifest to read, in bytes or with K, M or G (powers of 1024); a larger
    /// one is refused with E0037 after reading that much.
    #[arg(long, global = true, value_name = "SIZE", default_value = "128M", value_parser = lvsdr::parse_size)]
    max_manifest_size: u64,
    /// The manifest's syntax; auto: YAML for a .yaml or .yml file name (or --stdin-filename), else JSON.
    #[arg(long, global = true, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,
    /// The name standard input (`-`) is given in messages, and whose extension auto reads.
    #[arg(long, global = true, value_name = "NAME")]
    stdin_filename: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, in the order `lvsdr --help` lists them; each one's help is its module's.
#[derive(Subcommand)]
pub enum Command {
    Compile(compile::Args),
    Check(check::Args),
    Render(render::Args),
    Diff(diff::Args),
    Schema(schema::Args),
    Explain(explain::Args),
    Completions(completions::Args),
    Show(show::Args),
    Probe(probe::Args),
    Verify(verify::Args),
    Init(init::Args),
    Man(man::Args),
}

/// What every command is given, from the global options: how to print, and how to read a
/// manifest.
pub struct Settings {
    pub printer: Printer,
    pub reading: Reading,
}

impl Cli {
    /// The global options as settings, and the command to run with them.
    pub fn into_parts(self) -> (Settings, Command) {
        let settings = Settings {
            printer: Printer::new(self.format, self.color),
            reading: Reading {
                max_manifest_size: self.max_manifest_size,
                input_format: self.input_format,
                stdin_filename: self.stdin_filename,
                deny_warnings: self.deny_warnings,
            },
        };
        (settings, self.command)
    }
}
