//! Where output goes and in which format: every `--format` and `--color` decision, so that
//! a command says what its result is and the printer says it as human text, one JSON
//! object, or GitHub annotations.

use super::exit::{ExitStatus, Failure};
use clap::ValueEnum;
use lvsdr::contract::{self, to_sorted_line, JsonDiagnostic};
use lvsdr::report::{self, Style};
use lvsdr::{review, Code, Diagnostic};
use serde::Serialize;
use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    /// `probe` only: one Nagios/Icinga status line, exit 0-3.
    Nagios,
    /// `probe` only: a Prometheus textfile.
    Prometheus,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal: NO_COLOR (non-empty)
    /// turns auto off, CLICOLOR_FORCE (non-empty, not "0") turns it on.
    fn wanted(self, terminal: bool) -> bool {
        let value = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if value("NO_COLOR").is_some() => false,
            ColorChoice::Auto if value("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
            ColorChoice::Auto => terminal,
        }
    }
}

/// `println!` that does not panic when stdout is closed early (`lvsdr explain | head`):
/// the reader is gone, so the rest is dropped and the exit status stays the command's.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!`, likewise.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Prints in the format the command line chose, coloured where it asked for colour.
pub struct Printer {
    format: Format,
    /// Colour for diagnostics on standard error.
    style: Style,
    /// Colour for what goes to standard output (diffs).
    stdout_color: bool,
}

impl Printer {
    pub fn new(format: Format, color: ColorChoice) -> Printer {
        Printer {
            format,
            style: Style { color: color.wanted(std::io::stderr().is_terminal()) },
            stdout_color: color.wanted(std::io::stdout().is_terminal()),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether results are one JSON object on standard output.
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// A command's result, made of `data`: under `--format json` the contract result
    /// `json` makes of it, on standard output; otherwise whatever `human` prints of it.
    pub fn result<D, T: Serialize>(
        &self,
        data: D,
        json: impl FnOnce(D) -> T,
        human: impl FnOnce(D) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        match self.format {
            Format::Json => {
                self.json(&json(data));
                Ok(())
            }
            Format::Human | Format::Github | Format::Nagios | Format::Prometheus => human(data),
        }
    }

    /// A `--format json` result, as one line on standard output.
    pub fn json(&self, result: &impl Serialize) {
        say!("{}", to_sorted_line(result));
    }

    /// A line of text on standard output.
    pub fn line(&self, text: std::fmt::Arguments<'_>) {
        say!("{text}");
    }

    /// A line for people on standard error: `lvsdr: ...`.
    pub fn note(&self, text: std::fmt::Arguments<'_>) {
        tell!("lvsdr: {text}");
    }

    /// Bytes on standard output; a reader that stopped reading is no failure.
    pub fn stdout(&self, bytes: &[u8]) -> Result<(), Failure> {
        stdout_outcome(std::io::stdout().write_all(bytes))
    }

    /// A text result (a man page, a completion script, a manifest): as it is, or under
    /// `--format json` inside the contract result `result` makes of it.
    pub fn text<T: Serialize>(&self, text: Vec<u8>, result: impl FnOnce(String) -> T) -> Result<ExitStatus, Failure> {
        match self.format {
            Format::Json => {
                let line = to_sorted_line(&result(String::from_utf8_lossy(&text).into_owned()));
                self.stdout(format!("{line}\n").as_bytes())?
            }
            Format::Human | Format::Github | Format::Nagios | Format::Prometheus => self.stdout(&text)?,
        }
        Ok(ExitStatus::Success)
    }

    /// A manifest's diagnostics, named `file`: for people on standard error (unless JSON,
    /// whose result carries them; and, with `quiet_when_clean`, unless there are none),
    /// and under `--format github` also as annotations on standard output.
    pub fn diagnostics(&self, checked: &lvsdr::Checked, file: &str, quiet_when_clean: bool) -> Result<(), Failure> {
        let clean = checked.diagnostics.is_empty();
        // JSON results carry the diagnostics themselves.
        let silent = self.is_json() || (quiet_when_clean && clean);
        if !silent {
            let _ = write!(std::io::stderr(), "{}", checked.human(file, self.style));
        }
        if self.format == Format::Github && !clean {
            self.stdout(report::github(&checked.diagnostics, Some(file)).as_bytes())?;
        }
        Ok(())
    }

    /// The invalid-manifest outcome: under `--format json` the command's result with only
    /// the diagnostics (people have already seen them).
    pub fn invalid<T: Serialize>(
        &self,
        result: impl FnOnce(Vec<JsonDiagnostic>) -> T,
        diagnostics: &[Diagnostic],
    ) -> Result<ExitStatus, Failure> {
        if self.is_json() {
            self.json(&result(report::json_diagnostics(diagnostics)));
        }
        Ok(ExitStatus::Invalid)
    }

    /// A review of changed files for standard output, coloured when that is a terminal
    /// (or `--color always`).
    pub fn review(&self, changes: &[review::FileChange]) -> String {
        match self.stdout_color {
            true => review::human_colored(changes),
            false => review::human(changes),
        }
    }

    /// A command's usage or IO failure, said in the chosen format.
    pub fn failure(&self, failure: &Failure) -> ExitStatus {
        let diagnostic = Diagnostic::new(failure.code, "", failure.message.clone());
        match self.format {
            Format::Json => say!("{}", failure_line(&[diagnostic])),
            Format::Human | Format::Prometheus => tell!("lvsdr: {failure}"),
            // The plugin convention: one line on stdout, UNKNOWN.
            Format::Nagios => {
                say!("LVSDR UNKNOWN - {}", failure.message);
                return ExitStatus::Plugin(3);
            }
            Format::Github => {
                tell!("lvsdr: {failure}");
                say!("{}", report::github(&[diagnostic], None).trim_end());
            }
        }
        ExitStatus::Error
    }
}

/// clap's own errors (and --help, --version), in JSON when the command line asked for it:
/// the command line did not parse, so the format is looked for in its words.
pub fn clap_failure(error: clap::Error) -> ExitStatus {
    let args: Vec<String> = std::env::args().collect();
    let json =
        args.windows(2).any(|w| w[0] == "--format" && w[1] == "json") || args.iter().any(|a| a == "--format=json");
    let is_error = error.use_stderr();
    if !json || !is_error {
        error.exit();
    }
    let message = error.render().to_string();
    let first = message.lines().next().unwrap_or("").trim_start_matches("error: ").to_owned();
    let diagnostic = Diagnostic::new(Code::UsageError, "", first).hint("see lvsdr --help");
    say!("{}", failure_line(&[diagnostic]));
    ExitStatus::Error
}

/// The JSON result of a failure: its diagnostics only.
fn failure_line(diagnostics: &[Diagnostic]) -> String {
    to_sorted_line(&contract::FailureResult { diagnostics: report::json_diagnostics(diagnostics) })
}

/// What a write to standard output means for lvsdr's exit.
pub fn stdout_outcome(written: std::io::Result<()>) -> Result<(), Failure> {
    match written {
        // The reader stopped reading (`| head`): not a failure of lvsdr's.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Failure::write(format!("writing standard output: {e}"))),
    }
}
