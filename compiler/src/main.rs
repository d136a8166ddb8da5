//! The `lvsdr` command line: reads the manifest, runs the pipeline, prints, writes, exits.
//!
//! Exit codes: 0 success, 1 invalid manifest (or, for `compile --check` and
//! `diff --exit-code`, a difference), 2 usage or IO error.

use camino::{Utf8Path, Utf8PathBuf};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use lvsdr::codes::Code;
use lvsdr::contract::{self, to_sorted_line, JsonDiagnostic};
use lvsdr::diag::{has_errors, Diagnostic};
use lvsdr::report::{self, Style};
use lvsdr::{model::Cluster, review, tree, write};
use serde::Serialize;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

mod cli;
use cli::{complete, show};

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
struct Cli {
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
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
    /// `probe` only: one Nagios/Icinga status line, exit 0-3.
    Nagios,
    /// `probe` only: a Prometheus textfile.
    Prometheus,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
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

/// The manifest's syntax.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    Auto,
    Json,
    Yaml,
}

/// What `lvsdr schema` describes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaOf {
    /// The manifest lvsdr reads.
    Manifest,
    /// The output tree's index.json.
    Index,
    /// `check --format json`.
    Check,
    /// `compile --format json`.
    Compile,
    /// `compile --check --format json`.
    CompileCheck,
    /// `diff --format json`.
    Diff,
    /// `render --format json`.
    Render,
    /// `show --format json`.
    Show,
    /// `init --format json`.
    Init,
    /// `explain --format json`.
    Explain,
    /// `probe --format json` (and each line of `probe --watch --format json`).
    Probe,
    /// `verify --format json`.
    Verify,
    /// Any command's `--format json` on a usage or IO failure (E004x).
    Failure,
}

#[derive(Subcommand)]
enum Command {
    /// Validate MANIFEST and write every server's artifacts under OUT.
    #[command(
        after_long_help = "Examples:\n  lvsdr compile cluster.json -o out              compile, writing only what changed\n  lvsdr compile cluster.yaml -o out --check      CI: fail with a diff when out/ is stale\n  lvsdr compile - -o out --input-format yaml < cluster.yaml\n  lvsdr compile cluster.json -o out --format json | jq .method"
    )]
    Compile {
        /// The manifest, or - for standard input.
        manifest: String,
        /// The output directory (replaced atomically; only ever a tree lvsdr wrote).
        #[arg(short, long)]
        out: Utf8PathBuf,
        /// Write nothing: exit 0 when OUT is exactly what MANIFEST compiles to, else 1 with a unified diff.
        #[arg(long)]
        check: bool,
    },
    /// Validate MANIFEST only.
    #[command(
        after_long_help = "Examples:\n  lvsdr check cluster.json\n  lvsdr check cluster.yaml --deny-warnings --format github    in a GitHub Actions step\n  git show HEAD:cluster.json | lvsdr check - --stdin-filename cluster.json"
    )]
    Check {
        /// The manifest, or - for standard input.
        manifest: String,
    },
    /// Print one artifact of one real server or director to standard output.
    #[command(
        after_long_help = "Examples:\n  lvsdr render cluster.json --server web1 --artifact vips\n  lvsdr render cluster.json --server lvs1 --artifact keepalived > /etc/keepalived/keepalived.conf"
    )]
    Render {
        /// The manifest, or - for standard input.
        manifest: String,
        /// The real server's or director's name.
        #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::host_names))]
        server: String,
        /// The artifact's id (as in index.json: arptables, nftables, rc-local, ifcfg-eth0:100,
        /// keepalived, ipvsadm, ...) or its kind when the host has one artifact of that kind.
        #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::artifact_ids))]
        artifact: String,
    },
    /// Show what changes, server by server and artifact by artifact, from OLD's artifacts to NEW's.
    #[command(
        after_long_help = "Examples:\n  git show origin/main:cluster.json > /tmp/base.json && lvsdr diff /tmp/base.json cluster.json\n  lvsdr diff old.yaml new.yaml --exit-code         exit 1 when any artifact changes"
    )]
    Diff {
        /// The manifest before the change.
        old: String,
        /// The manifest after the change.
        new: String,
        /// Exit 1 when anything changes (as `git diff --exit-code`).
        #[arg(long)]
        exit_code: bool,
    },
    /// Print a JSON Schema (draft 2020-12): the manifest's, index.json's, or a command's `--format json` result.
    Schema {
        /// What to describe.
        #[arg(value_enum, default_value_t = SchemaOf::Manifest)]
        what: SchemaOf,
    },
    /// Explain a diagnostic code (E0012, W0001, ...), or `boot` (each platform's boot and
    /// change model); without CODE, list the codes.
    Explain {
        #[arg(add = clap_complete::engine::ArgValueCandidates::new(complete::codes))]
        code: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Show each host before compiling: role, platform, address, network stack, ARP
    /// suppression, VIPs (with labels) and the artifacts it gets.
    #[command(
        after_long_help = "Examples:\n  lvsdr show cluster.yaml\n  lvsdr show cluster.yaml --server web1           one host: its artifacts and steps\n  lvsdr show cluster.json --format json | jq '.servers[].name'"
    )]
    Show {
        /// The manifest, or - for standard input.
        manifest: String,
        /// Only this real server or director, in detail.
        #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::host_names))]
        server: Option<String>,
    },
    /// On the live segment, as root: which hosts answer ARP (IPv6: Neighbour Discovery) for
    /// each VIP. Exactly one director is ok; none is down; more, or a real server, is a leak.
    #[command(
        after_long_help = "It sends only ARP requests and Neighbour Solicitations, and only for the manifest's VIPs and hosts' own addresses (whose answers name the MACs), COUNT times each, then listens for WINDOW ms; every ARP or Neighbour Discovery frame from another host that claims a VIP counts too.

Exit status: 0 every VIP ok; 1 a VIP down, leaking or answered by an unknown MAC; 2 usage or IO error. With --format nagios: 0 OK, 1 WARNING (unknown responder), 2 CRITICAL (down or leak), 3 UNKNOWN (the probe could not run).

Examples:
  lvsdr probe cluster.yaml --interface eth0
  lvsdr probe cluster.yaml -i eth0 --format nagios          an NRPE command
  lvsdr probe cluster.yaml -i eth0 --format prometheus > /var/lib/node_exporter/lvsdr.prom.$$ && mv ...
  lvsdr probe cluster.yaml -i eth0 --watch 10               a line per change, until stopped"
    )]
    Probe {
        /// The manifest, or - for standard input.
        manifest: String,
        /// The interface on the VIPs' segment.
        #[arg(short, long)]
        interface: String,
        /// Milliseconds to listen after the last request.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(50..=60000))]
        window: u64,
        /// Requests per address, 100 ms apart.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
        count: u32,
        /// Probe again every SECONDS until stopped: a line per change (human), or the whole
        /// result as one JSON line per probe (json).
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400))]
        watch: Option<u64>,
    },
    /// Drift on a host: its installed files against the tree's index.json (content and
    /// mode; blocks by their markers), and on the host itself (`--root /`) its units and VIPs.
    #[command(
        after_long_help = "Exit status: 0 everything as the tree says; 1 drift; 2 usage or IO error.\n\nExamples:\n  lvsdr verify /srv/lvsdr/tree --host web1                 on web1 itself\n  lvsdr verify tree --host web1 --root /mnt/web1-image     an image or a mounted root\n  lvsdr verify tree --host web1 --format json | jq '.files[] | select(.state != \"ok\")'"
    )]
    Verify {
        /// The output tree (a directory with index.json).
        tree: Utf8PathBuf,
        /// The real server or director to verify.
        #[arg(long)]
        host: String,
        /// Where the host's install paths are read: / (the default) is the host itself, and
        /// adds its units and VIPs.
        #[arg(long, default_value = "/")]
        root: Utf8PathBuf,
    },
    /// Write a commented starting manifest (YAML; JSON, without comments, for a .json PATH).
    #[command(
        after_long_help = "Examples:\n  lvsdr init                    writes cluster.yaml\n  lvsdr init site/lvs.json\n  lvsdr init - | less"
    )]
    Init {
        /// Where to write it; - for standard output. An existing file is left alone.
        #[arg(default_value = "cluster.yaml")]
        path: String,
    },
    /// Print the man page (roff): lvsdr(1), lvsdr-COMMAND(1) for one command, or lvsdr(5)
    /// for `manifest` (every key of the manifest).
    Man {
        /// The command whose page to print (compile, check, ...).
        command: Option<String>,
    },
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

/// `eprint!`, likewise.
macro_rules! tell_raw {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// How manifests are read (`--max-manifest-size`, `--input-format`, `--stdin-filename`),
/// set once from the command line before any manifest is read.
struct Reading {
    max_manifest_size: u64,
    input_format: InputFormat,
    stdin_filename: Option<String>,
    deny_warnings: bool,
    /// Colour for what goes to standard output (diffs).
    stdout_color: bool,
}

static READING: std::sync::OnceLock<Reading> = std::sync::OnceLock::new();

fn reading() -> &'static Reading {
    READING.get_or_init(|| Reading {
        max_manifest_size: lvsdr::MAX_MANIFEST_BYTES,
        input_format: InputFormat::Auto,
        stdin_filename: None,
        deny_warnings: false,
        stdout_color: false,
    })
}

fn max_manifest_size() -> u64 {
    reading().max_manifest_size
}

/// The syntax of the manifest named `file` in messages.
fn syntax_of(file: &str) -> lvsdr::Syntax {
    match reading().input_format {
        InputFormat::Json => lvsdr::Syntax::Json,
        InputFormat::Yaml => lvsdr::Syntax::Yaml,
        InputFormat::Auto => lvsdr::Syntax::of_file_name(file),
    }
}

/// Exit statuses of the contract.
const INVALID: u8 = 1;
const DIFFERS: u8 = 1;
const USAGE: u8 = 2;

/// A usage or IO failure: exit 2 with this code and message.
struct Failure {
    code: Code,
    message: String,
}

fn usage(message: String) -> Failure {
    Failure { code: Code::UsageError, message }
}

// lvsdr allocates and frees millions of small strings for a large cluster; mimalloc does
// that in about half the time of glibc's allocator (see scripts/bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options, by their place in `mi_option_e` (mimalloc.h of the v3 sources that
/// libmimalloc-sys builds); `allocator_options_are_these` checks them against the library.
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Arenas are committed as they are used, not all at once: a small manifest's `check`
/// peaked at 10 MiB with mimalloc's default (eager arenas), now 5; at 5,000 servers 22 MiB,
/// now 17; at 50,000, 128 MiB, now 115, in the same time.
///
/// It runs from `.init_array`, before the Rust runtime allocates anything: mimalloc makes
/// its first arena at the first allocation, with the options it has then.
extern "C" fn commit_arenas_lazily() {
    // SAFETY: setting an option is a store mimalloc allows at any time, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
}

#[used]
#[link_section = ".init_array"]
static COMMIT_ARENAS_LAZILY: extern "C" fn() = commit_arenas_lazily;

/// Memory is given back to the system as soon as it is freed, for a compile: the
/// manifest's text and raw form are freed before the model's peak, and the writer's
/// threads free each host as they go. With mimalloc's default (a second's delay) those
/// pages stayed resident beside the rest: a compile at 50,000 servers peaked at 129 MiB,
/// now 97; at 5,000, 28 MiB, now 19, in the same time. `check` keeps the delay: it
/// reuses the freed pages for the model at once, and returning them cost it a fifth of
/// its time for 30 MiB less at 50,000 servers.
fn return_freed_memory_at_once() {
    // SAFETY: as in `commit_arenas_lazily`.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    // `COMPLETE=bash lvsdr` prints the shell's registration; the shell then calls lvsdr
    // with COMPLETE set for each completion (server names, artifact ids, codes).
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_failure(error),
    };
    let style = Style { color: cli.color.wanted(std::io::stderr().is_terminal()) };
    let format = cli.format;
    READING.get_or_init(|| Reading {
        max_manifest_size: cli.max_manifest_size,
        input_format: cli.input_format,
        stdin_filename: cli.stdin_filename.clone(),
        deny_warnings: cli.deny_warnings,
        stdout_color: cli.color.wanted(std::io::stdout().is_terminal()),
    });
    // nagios and prometheus say what a probe found; no other command has such a result.
    if matches!(format, Format::Nagios | Format::Prometheus) && !matches!(cli.command, Command::Probe { .. }) {
        tell!("lvsdr: error[{}]: --format nagios and prometheus are for lvsdr probe", Code::UsageError);
        return ExitCode::from(USAGE);
    }
    let result = match cli.command {
        Command::Compile { manifest, out, check } => {
            return_freed_memory_at_once();
            if check {
                compile_check(format, style, &manifest, &out)
            } else {
                compile(format, style, &manifest, &out)
            }
        }
        Command::Check { manifest } => check(format, style, &manifest),
        Command::Render { manifest, server, artifact } => render(format, style, &manifest, &server, &artifact),
        Command::Diff { old, new, exit_code } => diff(format, style, &old, &new, exit_code),
        Command::Schema { what } => print_schema(format, what),
        Command::Explain { code } => explain(format, code.as_deref()),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "lvsdr", &mut script);
            print_text(format, script, |completions| {
                to_sorted_line(&contract::CompletionsResult { completions, diagnostics: Vec::new() })
            })
        }
        Command::Man { command } => man_page(format, command.as_deref()),
        Command::Show { manifest, server } => show(format, style, &manifest, server.as_deref()),
        Command::Init { path } => init(format, &path),
        Command::Verify { tree, host, root } => verify(format, &tree, &host, &root),
        Command::Probe { manifest, interface, window, count, watch } => {
            let options = cli::probe::Options { interface, count, window: std::time::Duration::from_millis(window) };
            probe(format, style, &manifest, &options, watch)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            let diagnostic = Diagnostic::new(failure.code, "", failure.message.clone());
            match format {
                Format::Json => say!("{}", failure_line(&[diagnostic])),
                Format::Human | Format::Prometheus => tell!("lvsdr: error[{}]: {}", failure.code, failure.message),
                // The plugin convention: one line on stdout, UNKNOWN.
                Format::Nagios => {
                    say!("LVSDR UNKNOWN - {}", failure.message);
                    return ExitCode::from(3);
                }
                Format::Github => {
                    tell!("lvsdr: error[{}]: {}", failure.code, failure.message);
                    say!("{}", lvsdr::report::github(&[diagnostic], None).trim_end());
                }
            }
            ExitCode::from(USAGE)
        }
    }
}

/// clap's own errors (and --help, --version), in JSON when the command line asked for it.
fn clap_failure(error: clap::Error) -> ExitCode {
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
    ExitCode::from(USAGE)
}

/// The JSON result of a failure: its diagnostics only.
fn failure_line(diagnostics: &[Diagnostic]) -> String {
    to_sorted_line(&contract::FailureResult { diagnostics: report::json_diagnostics(diagnostics) })
}

/// Prints a `--format json` result.
fn say_json(result: &impl Serialize) {
    say!("{}", to_sorted_line(result));
}

/// lvsdr(1), or lvsdr-COMMAND(1), which the SUBCOMMANDS section of lvsdr(1) refers to.
fn man_page(format: Format, command: Option<&str>) -> Result<u8, Failure> {
    if command == Some("manifest") {
        let page = lvsdr::reference::roff(env!("CARGO_PKG_VERSION"));
        return print_text(format, page.into_bytes(), |man| {
            to_sorted_line(&contract::ManResult { man, diagnostics: Vec::new() })
        });
    }
    let top = Cli::command();
    let page = match command {
        None => top,
        Some(name) => {
            let names: Vec<String> = top.get_subcommands().map(|c| c.get_name().to_owned()).collect();
            let sub = top
                .find_subcommand(name)
                .cloned()
                .ok_or_else(|| usage(format!("no command \"{name}\" (commands: {})", names.join(", "))))?;
            // clap names a page by a &'static str; this process prints one page and exits.
            let title: &'static str = Box::leak(format!("lvsdr-{}", sub.get_name()).into_boxed_str());
            sub.name(title).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .map_err(|e| Failure { code: Code::WriteError, message: e.to_string() })?;
    print_text(format, roff, |man| to_sorted_line(&contract::ManResult { man, diagnostics: Vec::new() }))
}

fn print_schema(format: Format, what: SchemaOf) -> Result<u8, Failure> {
    let schema = match what {
        SchemaOf::Manifest => lvsdr::schema::manifest_schema(),
        SchemaOf::Index => lvsdr::schema::of::<contract::Index>(),
        SchemaOf::Check => lvsdr::schema::of::<contract::CheckResult>(),
        SchemaOf::Compile => lvsdr::schema::of::<contract::CompileResult>(),
        SchemaOf::CompileCheck => lvsdr::schema::of::<contract::CompileCheckResult>(),
        SchemaOf::Diff => lvsdr::schema::of::<contract::DiffResult>(),
        SchemaOf::Render => lvsdr::schema::of::<contract::RenderResult>(),
        SchemaOf::Show => lvsdr::schema::of::<contract::ShowResult>(),
        SchemaOf::Init => lvsdr::schema::of::<contract::InitResult>(),
        SchemaOf::Explain => lvsdr::schema::of::<contract::ExplainResult>(),
        SchemaOf::Failure => lvsdr::schema::of::<contract::FailureResult>(),
        SchemaOf::Probe => lvsdr::schema::of::<contract::ProbeResult>(),
        SchemaOf::Verify => lvsdr::schema::of::<contract::VerifyResult>(),
    };
    let text = match format {
        Format::Json => to_sorted_line(&contract::SchemaResult { schema, diagnostics: Vec::new() }),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            serde_json::to_string_pretty(&schema).expect("a JSON value serializes")
        }
    };
    write_stdout(format!("{text}\n").as_bytes())?;
    Ok(0)
}

fn print_text(format: Format, text: Vec<u8>, result: impl FnOnce(String) -> String) -> Result<u8, Failure> {
    match format {
        Format::Json => write_stdout(format!("{}\n", result(String::from_utf8_lossy(&text).into_owned())).as_bytes())?,
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => write_stdout(&text)?,
    }
    Ok(0)
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    stdout_outcome(std::io::stdout().write_all(bytes))
}

/// What a write to standard output means for lvsdr's exit.
fn stdout_outcome(written: std::io::Result<()>) -> Result<(), Failure> {
    match written {
        // The reader stopped reading (`| head`): not a failure of lvsdr's.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => {
            other.map_err(|e| Failure { code: Code::WriteError, message: format!("writing standard output: {e}") })
        }
    }
}

/// Reads at most one byte more than the limit, so a huge input is refused without
/// reading it all; `check_bytes` reports it.
fn read_manifest(manifest: &str) -> Result<(String, ManifestBytes), Failure> {
    let limit = max_manifest_size() + 1;
    let mut bytes = Vec::new();
    let read_error =
        |what: &str, e: std::io::Error| Failure { code: Code::ReadError, message: format!("reading {what}: {e}") };
    if manifest == "-" {
        // A closed standard input is an error, not an empty manifest. The Rust runtime
        // reopens a closed fd 0 on /dev/null before main, so that is what is seen.
        let null = rustix::fs::fstat(std::io::stdin()).is_ok_and(|st| {
            rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::CharacterDevice
                && rustix::fs::major(st.st_rdev) == 1
                && rustix::fs::minor(st.st_rdev) == 3
        });
        if null {
            return Err(read_error("standard input", std::io::Error::other("it is closed (or /dev/null)")));
        }
        std::io::stdin().take(limit).read_to_end(&mut bytes).map_err(|e| read_error("standard input", e))?;
        let bytes = ManifestBytes { bytes: Some(bytes), file: None, len: 0 };
        Ok((reading().stdin_filename.clone().unwrap_or_else(|| "<stdin>".into()), bytes))
    } else {
        // Opened without blocking, so that a FIFO with no writer is refused instead of hanging.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(manifest)
            .map_err(|e| read_error(manifest, e))?;
        let meta = file.metadata().map_err(|e| read_error(manifest, e))?;
        if meta.is_dir() {
            return Err(read_error(manifest, std::io::Error::other("it is a directory")));
        }
        if !meta.is_file() {
            return Err(read_error(
                manifest,
                std::io::Error::other("it is not a regular file (a FIFO, socket or device); use - for standard input"),
            ));
        }
        // Sized up front: `take` hides the file's length from `read_to_end`, which would
        // grow the buffer by doubling to twice the manifest.
        bytes.reserve_exact(meta.len().min(limit) as usize + 1);
        (&file).take(limit).read_to_end(&mut bytes).map_err(|e| read_error(manifest, e))?;
        let len = bytes.len();
        Ok((manifest.to_owned(), ManifestBytes { bytes: Some(bytes), file: Some(file), len }))
    }
}

/// A manifest's bytes as read. A file's are let go while a valid parse is lowered (a
/// large manifest's text need not sit beside its model) and read again from the same
/// open file only to locate diagnostics; standard input's are kept.
struct ManifestBytes {
    bytes: Option<Vec<u8>>,
    /// The file they came from, still open: the same inode even if renamed meanwhile.
    file: Option<std::fs::File>,
    /// Their length when first read; a file that changed length since gives no locations.
    len: usize,
}

impl lvsdr::Source for ManifestBytes {
    fn bytes(&mut self) -> Option<&[u8]> {
        if self.bytes.is_none() {
            let file = self.file.as_ref()?;
            if file.metadata().ok()?.len() != self.len as u64 {
                return None;
            }
            let mut again = vec![0; self.len];
            std::os::unix::fs::FileExt::read_exact_at(file, &mut again, 0).ok()?;
            self.bytes = Some(again);
        }
        self.bytes.as_deref()
    }

    fn release(&mut self) {
        if self.file.is_some() {
            self.bytes = None;
        }
    }
}

/// Runs the pipeline up to the model, prints the diagnostics, and returns the cluster if valid.
fn load(
    format: Format,
    style: Style,
    manifest: &str,
    quiet_ok: bool,
) -> Result<(Option<Cluster>, Vec<Diagnostic>), Failure> {
    load_digest(format, style, manifest, quiet_ok, false).map(|(cluster, diagnostics, _)| (cluster, diagnostics))
}

/// `load`, and (with `digest`) the SHA-256 of the manifest's bytes, which the writer's
/// record remembers.
fn load_digest(
    format: Format,
    style: Style,
    manifest: &str,
    quiet_ok: bool,
    digest: bool,
) -> Result<(Option<Cluster>, Vec<Diagnostic>, String), Failure> {
    let (file, mut bytes) = read_manifest(manifest)?;
    // The record remembers the bytes as read, before analysis lets go of them.
    let digest = match digest {
        true => lvsdr::digest::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes.bytes.as_deref().unwrap_or_default())),
        false => String::new(),
    };
    let mut checked = lvsdr::check_source(&mut bytes, max_manifest_size(), syntax_of(&file));
    drop(bytes);
    if reading().deny_warnings {
        checked.deny_warnings();
    }
    checked.name_file(&file);
    if format != Format::Json && !(quiet_ok && checked.diagnostics.is_empty()) {
        tell_raw!("{}", checked.human(&file, style));
    }
    if format == Format::Github && !checked.diagnostics.is_empty() {
        write_stdout(lvsdr::report::github(&checked.diagnostics, Some(&file)).as_bytes())?;
    }
    Ok((checked.cluster, checked.diagnostics, digest))
}

/// `lvsdr verify`: the host as the tree says, or its drift.
fn verify(format: Format, tree: &Utf8Path, host: &str, root: &Utf8Path) -> Result<u8, Failure> {
    let result = cli::verify::run(tree.as_std_path(), host, root.as_std_path())
        .map_err(|message| Failure { code: Code::ReadError, message })?;
    if format == Format::Json {
        say!("{}", to_sorted_line(&result));
    } else {
        let mut text = String::new();
        for f in &result.files {
            let said = match f.state {
                contract::VerifyState::Ok => "ok",
                contract::VerifyState::Missing => "MISSING",
                contract::VerifyState::Changed => "CHANGED",
                contract::VerifyState::Mode => "MODE",
            };
            let mode = match (&f.found_mode, f.state) {
                (Some(found), contract::VerifyState::Mode) => format!(" ({found}, the tree says {})", f.expected_mode),
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
        write_stdout(text.as_bytes())?;
    }
    Ok(if result.ok { 0 } else { INVALID })
}

/// `lvsdr probe`: the cluster's VIPs asked for on the segment, judged, and said in FORMAT;
/// with WATCH, again every WATCH seconds until stopped.
fn probe(
    format: Format,
    style: Style,
    manifest: &str,
    options: &cli::probe::Options,
    watch: Option<u64>,
) -> Result<u8, Failure> {
    if watch.is_some() && !matches!(format, Format::Human | Format::Json) {
        return Err(usage("--watch prints a line per change (human) or a JSON line per probe (json)".into()));
    }
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        return Err(Failure { code: Code::ProbeError, message: format!("{manifest} is not a valid manifest") });
    };
    let plan = lvsdr::probe::Plan::of(&cluster);
    let once = || -> Result<contract::ProbeResult, Failure> {
        let observed =
            cli::probe::run(&plan, options).map_err(|message| Failure { code: Code::ProbeError, message })?;
        let window_ms = u64::try_from(options.window.as_millis()).unwrap_or(u64::MAX);
        let mut result = lvsdr::probe::judge(&plan, &options.interface, window_ms, observed.sent, &observed.seen);
        result.diagnostics = report::json_diagnostics(&diagnostics);
        Ok(result)
    };
    let Some(seconds) = watch else {
        let result = once()?;
        match format {
            Format::Json => say!("{}", to_sorted_line(&result)),
            Format::Nagios => {
                write_stdout(lvsdr::probe::nagios(&result).as_bytes())?;
                return Ok(lvsdr::probe::nagios_status(result.state));
            }
            Format::Prometheus => write_stdout(lvsdr::probe::prometheus(&result).as_bytes())?,
            Format::Human | Format::Github => write_stdout(lvsdr::probe::human(&result).as_bytes())?,
        }
        return Ok(if result.state == contract::ProbeState::Ok { 0 } else { INVALID });
    };
    let mut last: Option<contract::ProbeResult> = None;
    loop {
        let result = once()?;
        if format == Format::Json {
            say!("{}", to_sorted_line(&result));
        } else {
            let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            for line in lvsdr::probe::changes(last.as_ref(), &result) {
                say!("{stamp} {line}");
            }
        }
        last = Some(result);
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}

fn check(format: Format, style: Style, manifest: &str) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, false)?;
    let valid = cluster.is_some();
    // The model is done with, and the process ends here: the system takes its memory back
    // at once, where freeing it piece by piece would cost time.
    std::mem::forget(cluster);
    if format == Format::Json {
        say_json(&contract::CheckResult { valid, diagnostics: report::json_diagnostics(&diagnostics) });
    }
    Ok(if has_errors(&diagnostics) { INVALID } else { 0 })
}

/// The invalid-manifest outcome: the JSON result (the diagnostics were printed by `load`).
fn invalid(
    format: Format,
    result: impl FnOnce(Vec<JsonDiagnostic>) -> String,
    diagnostics: &[Diagnostic],
) -> Result<u8, Failure> {
    if format == Format::Json {
        say!("{}", result(report::json_diagnostics(diagnostics)));
    }
    Ok(INVALID)
}

fn compile(format: Format, style: Style, manifest: &str, out: &Utf8Path) -> Result<u8, Failure> {
    let (cluster, diagnostics, digest) = load_digest(format, style, manifest, true, true)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| {
            to_sorted_line(&contract::CompileResult {
                written: None,
                files: None,
                method: None,
                changed_files: None,
                removed_files: None,
                directors: None,
                servers: None,
                warnings: Vec::new(),
                diagnostics,
            })
        };
        return invalid(format, result, &diagnostics);
    };
    let written = write::compile(&cluster, &digest, out)
        .map_err(|e| Failure { code: Code::WriteError, message: e.to_string() })?;
    let (files, directors, servers) = (written.files, cluster.directors.len(), cluster.real_servers.len());
    // Freeing a large cluster's model takes longer than the process's exit.
    std::mem::forget(cluster);
    let method = match written.method {
        write::Method::WholeTree => contract::WriteMethod::WholeTree,
        write::Method::Update => contract::WriteMethod::Update,
        write::Method::Unchanged => contract::WriteMethod::Unchanged,
    };
    match format {
        Format::Json => say!(
            "{}",
            to_sorted_line(&contract::CompileResult {
                written: Some(out.to_string()),
                files: Some(files),
                method: Some(method),
                changed_files: Some(written.written),
                removed_files: Some(written.removed),
                directors: Some(directors),
                servers: Some(servers),
                warnings: written.warnings.clone(),
                diagnostics: report::json_diagnostics(&diagnostics),
            })
        ),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            let hosts = format!("{directors} director(s) and {servers} real server(s)");
            match written.method {
                write::Method::WholeTree => tell!("lvsdr: wrote {files} files for {hosts} to {out}"),
                write::Method::Update => tell!(
                    "lvsdr: updated {out} for {hosts}: {} file(s) written, {} removed, {} unchanged",
                    written.written,
                    written.removed,
                    files - written.written
                ),
                write::Method::Unchanged => {
                    tell!("lvsdr: {out} is up to date ({files} files for {hosts}); nothing written")
                }
            }
            for warning in &written.warnings {
                tell!("lvsdr: warning: {warning}");
            }
        }
    }
    Ok(0)
}

/// `compile --check`: compares OUT on disk with the compiled tree, writing nothing.
fn compile_check(format: Format, style: Style, manifest: &str, out: &Utf8Path) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| {
            to_sorted_line(&contract::CompileCheckResult { up_to_date: None, changes: None, diagnostics })
        };
        return invalid(format, result, &diagnostics);
    };
    let changes = write::check(&cluster, out).map_err(|e| Failure { code: Code::ReadError, message: e.to_string() })?;
    match format {
        Format::Json => say!(
            "{}",
            to_sorted_line(&contract::CompileCheckResult {
                up_to_date: Some(changes.is_empty()),
                changes: Some(review::entries(&changes)),
                diagnostics: report::json_diagnostics(&diagnostics),
            })
        ),
        Format::Human | Format::Github if changes.is_empty() => tell!("lvsdr: {out} is up to date"),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            write_stdout(review_text(&changes).as_bytes())?;
            tell!("lvsdr: {out} differs from what the manifest compiles to in {} file(s)", changes.len());
        }
    }
    Ok(if changes.is_empty() { 0 } else { DIFFERS })
}

fn diff(format: Format, style: Style, old: &str, new: &str, exit_code: bool) -> Result<u8, Failure> {
    let (old_cluster, mut diagnostics) = load(format, style, old, true)?;
    let (new_cluster, new_diagnostics) = load(format, style, new, true)?;
    diagnostics.extend(new_diagnostics);
    let (Some(old_cluster), Some(new_cluster)) = (old_cluster, new_cluster) else {
        let result = |diagnostics| to_sorted_line(&contract::DiffResult { changes: None, actions: None, diagnostics });
        return invalid(format, result, &diagnostics);
    };
    let (old_tree, new_tree) = (tree::build(&old_cluster), tree::build(&new_cluster));
    let changes = review::compare(&old_tree, &new_tree, false);
    let actions = review::actions(&old_tree, &new_tree, &changes);
    match format {
        Format::Json => say!(
            "{}",
            to_sorted_line(&contract::DiffResult {
                changes: Some(review::entries(&changes)),
                actions: Some(actions),
                diagnostics: report::json_diagnostics(&diagnostics),
            })
        ),
        Format::Human | Format::Github if changes.is_empty() => tell!("lvsdr: no artifact changes"),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            write_stdout((review_text(&changes) + &review::human_actions(&actions)).as_bytes())?
        }
    }
    Ok(if exit_code && !changes.is_empty() { DIFFERS } else { 0 })
}

/// A review for standard output, coloured when it is a terminal (or --color always).
fn review_text(changes: &[review::FileChange]) -> String {
    match reading().stdout_color {
        true => review::human_colored(changes),
        false => review::human(changes),
    }
}

fn render(format: Format, style: Style, manifest: &str, server: &str, artifact: &str) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| to_sorted_line(&contract::RenderResult { artifact: None, diagnostics });
        return invalid(format, result, &diagnostics);
    };
    let n = host_number(&cluster, server)?;
    let plan = &lvsdr::plan::plan_host(&cluster, n);
    let placements = plan.placements();
    let by_id = placements.iter().position(|a| a.id == artifact);
    let of_kind: Vec<usize> = (0..placements.len()).filter(|&i| placements[i].kind == artifact).collect();
    let chosen = match (by_id, of_kind.as_slice()) {
        (Some(i), _) | (None, &[i]) => i,
        _ => {
            let ids: Vec<&str> = placements.iter().map(|a| a.id.as_str()).collect();
            let close = suggestion(artifact, &ids);
            return Err(usage(format!(
                "{} {server} has no single artifact \"{artifact}\"; {close}(its artifacts: {})",
                plan.role(),
                ids.join(", ")
            )));
        }
    };
    let placement = placements[chosen];
    match format {
        Format::Json => say_json(&contract::RenderResult {
            artifact: Some(contract::RenderedArtifact {
                server: server.to_owned(),
                artifact: placement.id.clone(),
                install_path: placement.install_path.clone(),
                mode: format!("{:04o}", placement.mode),
                contents: lvsdr::emit::emit(&cluster, plan, chosen),
            }),
            diagnostics: report::json_diagnostics(&diagnostics),
        }),
        // Written as it renders: a director's file is tens of MB in a large cluster.
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            let mut out = StdoutText { out: std::io::BufWriter::new(std::io::stdout().lock()), error: None };
            let written = match lvsdr::emit::emit_into(&cluster, plan, chosen, &mut out) {
                Ok(()) => out.out.flush(),
                Err(_) => {
                    Err(out.error.take().unwrap_or_else(|| std::io::Error::other("the artifact could not be rendered")))
                }
            };
            stdout_outcome(written)?;
        }
    }
    Ok(0)
}

/// Text written into it goes to standard output; the first failed write is kept.
struct StdoutText<W: Write> {
    out: W,
    error: Option<std::io::Error>,
}

impl<W: Write> std::fmt::Write for StdoutText<W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.out.write_all(text.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

/// The number of the host named `name`, found without planning every host.
fn host_number(cluster: &Cluster, name: &str) -> Result<usize, Failure> {
    let hosts = lvsdr::plan::host_count(cluster);
    (0..hosts).find(|&n| lvsdr::plan::host_name(cluster, n).as_str() == name).ok_or_else(|| {
        let names: Vec<&str> = (0..hosts).map(|n| lvsdr::plan::host_name(cluster, n).as_str()).collect();
        unknown_host(name, &names)
    })
}

/// `did you mean "web1"? ` when a name is close to `word`, else nothing.
fn suggestion(word: &str, names: &[&str]) -> String {
    lvsdr::diag::did_you_mean(word, names.iter().copied())
        .map(|c| format!("did you mean \"{c}\"? "))
        .unwrap_or_default()
}

/// An unknown `--server`: the closest name first, then every host.
fn unknown_host(server: &str, names: &[&str]) -> Failure {
    let close = suggestion(server, names);
    usage(format!("no director or real server \"{server}\" in the manifest; {close}(hosts: {})", names.join(", ")))
}

fn show(format: Format, style: Style, manifest: &str, server: Option<&str>) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| {
            to_sorted_line(&contract::ShowResult { cluster: None, directors: None, servers: None, diagnostics })
        };
        return invalid(format, result, &diagnostics);
    };
    // Host by host, as a compile renders them: a large cluster's tree is never whole here.
    let hosts = lvsdr::plan::host_count(&cluster);
    let wanted: Vec<usize> = match server {
        None => (0..hosts).collect(),
        Some(server) => vec![host_number(&cluster, server)?],
    };
    let (mut directors, mut servers) = (Vec::new(), Vec::new());
    for n in wanted {
        let host = tree::host(&cluster, n);
        let parsed = match host.role {
            tree::Role::Director => serde_json::from_str(&host.entry).map(|d| directors.push(d)),
            tree::Role::RealServer => serde_json::from_str(&host.entry).map(|s| servers.push(s)),
        };
        parsed.expect("a host's index entry is its contract type");
    }
    let cluster_name = cluster.name.to_string();
    match format {
        Format::Json => say_json(&contract::ShowResult {
            cluster: Some(cluster_name),
            directors: Some(directors),
            servers: Some(servers),
            diagnostics: report::json_diagnostics(&diagnostics),
        }),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            let text = match server {
                None => show::table(&cluster_name, &directors, &servers),
                Some(_) => show::detail(&directors, &servers),
            };
            write_stdout(text.as_bytes())?;
        }
    }
    Ok(0)
}

fn init(format: Format, path: &str) -> Result<u8, Failure> {
    let text = match lvsdr::Syntax::of_file_name(path) {
        lvsdr::Syntax::Yaml => lvsdr::reference::INIT_YAML.to_owned(),
        // Same manifest, no comments: JSON has none. A .json PATH; `-` gives the YAML.
        lvsdr::Syntax::Json if path != "-" => {
            let (value, ..) = lvsdr::yaml::parse(lvsdr::reference::INIT_YAML).expect("the starting manifest is YAML");
            serde_json::to_string_pretty(&value).expect("a JSON value serializes") + "\n"
        }
        lvsdr::Syntax::Json => lvsdr::reference::INIT_YAML.to_owned(),
    };
    if path == "-" {
        return print_text(format, text.into_bytes(), |manifest| {
            to_sorted_line(&contract::InitResult { written: manifest, diagnostics: Vec::new() })
        });
    }
    let write_error = |e: std::io::Error| Failure { code: Code::WriteError, message: format!("writing {path}: {e}") };
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Failure {
            code: Code::WriteError,
            message: format!("{path} exists; lvsdr init writes only a new file (remove it, or name another)"),
        },
        _ => write_error(e),
    })?;
    // The file is this run's own (create_new): a failed write leaves nothing behind that
    // the next `lvsdr init` would refuse as existing.
    if let Err(error) = file.write_all(text.as_bytes()).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(write_error(error));
    }
    match format {
        Format::Json => say_json(&contract::InitResult { written: path.to_owned(), diagnostics: Vec::new() }),
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            tell!("lvsdr: wrote {path}; edit it, then `lvsdr check {path}` and `lvsdr compile {path} -o out`")
        }
    }
    Ok(0)
}

fn explain(format: Format, code: Option<&str>) -> Result<u8, Failure> {
    if code == Some("boot") {
        let explanation = lvsdr::boot::explain();
        match format {
            Format::Json => say_json(&contract::ExplainResult {
                codes: vec![contract::CodeEntry {
                    code: "boot".into(),
                    severity: "info".into(),
                    title: "how each platform boots a real server, and how a change is applied".into(),
                    explanation,
                }],
                diagnostics: Vec::new(),
            }),
            Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
                write_stdout(explanation.as_bytes())?
            }
        }
        return Ok(0);
    }
    let codes: Vec<Code> = match code {
        None => Code::ALL.to_vec(),
        Some(text) => vec![Code::parse(text)
            .ok_or_else(|| usage(format!("unknown diagnostic code \"{text}\" (run `lvsdr explain` for the list)")))?],
    };
    match format {
        Format::Json => {
            let codes = codes
                .iter()
                .map(|c| contract::CodeEntry {
                    code: c.as_str().to_owned(),
                    severity: c.severity().as_str().to_owned(),
                    title: c.title().to_owned(),
                    explanation: c.explanation().to_owned(),
                })
                .collect();
            say_json(&contract::ExplainResult { codes, diagnostics: Vec::new() });
        }
        Format::Human | Format::Github if code.is_none() => {
            for c in codes {
                say!("{c}  {}", c.title());
            }
        }
        Format::Human | Format::Github | Format::Nagios | Format::Prometheus => {
            for c in codes {
                say!("{c}: {}\n\n{}", c.title(), c.explanation());
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    /// The option numbers name the options meant: the purge delay's default in mimalloc's
    /// options.c (v3) is 1000 ms, and `commit_arenas_lazily` set eager arenas (default 2)
    /// to 0 before this test ran.
    #[test]
    fn allocator_options_are_these() {
        // SAFETY: reading an option is a load mimalloc allows at any time.
        let (purge_delay, arena_eager_commit) = unsafe {
            (
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(super::MI_OPTION_ARENA_EAGER_COMMIT),
            )
        };
        assert_eq!((purge_delay, arena_eager_commit), (1000, 0));
    }
}
