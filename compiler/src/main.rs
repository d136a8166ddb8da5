//! The `lvsdr` command line: reads the manifest, runs the pipeline, prints, writes, exits.
//!
//! Exit codes: 0 success, 1 invalid manifest, 2 usage or IO error (an unknown
//! `--server` or `--artifact` for `render` is a usage error).

use camino::Utf8PathBuf;
use clap::{Parser, Subcommand, ValueEnum};
use lvsdr::codes::Code;
use lvsdr::diag::{has_errors, Diagnostic};
use lvsdr::report::{self, Style};
use lvsdr::{model::Cluster, tree, write};
use serde_json::json;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lvsdr",
    version,
    about = "Compile an LVS direct-routing cluster manifest into each real server's boot artifacts"
)]
struct Cli {
    /// How to print diagnostics and results.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Validate MANIFEST and write every real server's artifacts under OUT.
    Compile {
        /// The manifest, or - for standard input.
        manifest: String,
        /// The output directory (replaced atomically; only ever a tree lvsdr wrote).
        #[arg(short, long)]
        out: Utf8PathBuf,
    },
    /// Validate MANIFEST only.
    Check {
        /// The manifest, or - for standard input.
        manifest: String,
    },
    /// Print one artifact of one real server or director to standard output.
    Render {
        /// The manifest, or - for standard input.
        manifest: String,
        /// The real server's or director's name.
        #[arg(long)]
        server: String,
        /// The artifact's id (as in index.json: arptables, nftables, rc-local, ifcfg-eth0:100, ...)
        /// or its kind when the server has one artifact of that kind.
        #[arg(long)]
        artifact: String,
    },
    /// Explain a diagnostic code (E0012, W0001, ...); without CODE, list them all.
    Explain { code: Option<String> },
}

/// Exit statuses of the contract.
const INVALID: u8 = 1;
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style =
        Style { color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) };
    let result = match &cli.command {
        Command::Compile { manifest, out } => compile(cli.format, style, manifest, out),
        Command::Check { manifest } => check(cli.format, style, manifest),
        Command::Render { manifest, server, artifact } => render(cli.format, style, manifest, server, artifact),
        Command::Explain { code } => explain(cli.format, code.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            match cli.format {
                Format::Json => println!("{}", json!({ "diagnostics": [], "error": message })),
                Format::Human => eprintln!("lvsdr: {message}"),
            }
            ExitCode::from(USAGE)
        }
    }
}

/// A usage or IO failure: exit 2 with this message.
type Failure = String;

fn read_manifest(manifest: &str) -> Result<(String, Vec<u8>), Failure> {
    if manifest == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("reading standard input: {e}"))?;
        Ok(("<stdin>".into(), bytes))
    } else {
        let bytes = std::fs::read(manifest).map_err(|e| format!("reading {manifest}: {e}"))?;
        Ok((manifest.to_owned(), bytes))
    }
}

/// Runs the pipeline up to the model, prints the diagnostics, and returns the cluster if valid.
fn load(
    format: Format,
    style: Style,
    manifest: &str,
    quiet_ok: bool,
) -> Result<(Option<Cluster>, Vec<Diagnostic>), Failure> {
    let (file, bytes) = read_manifest(manifest)?;
    let checked = lvsdr::check_bytes(&bytes);
    if format == Format::Human && !(quiet_ok && checked.diagnostics.is_empty()) {
        eprint!("{}", checked.human(&file, style));
    }
    Ok((checked.cluster, checked.diagnostics))
}

fn check(format: Format, style: Style, manifest: &str) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, false)?;
    if format == Format::Json {
        println!("{}", json!({ "valid": cluster.is_some(), "diagnostics": report::json_diagnostics(&diagnostics) }));
    }
    Ok(if has_errors(&diagnostics) { INVALID } else { 0 })
}

fn compile(format: Format, style: Style, manifest: &str, out: &Utf8PathBuf) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        if format == Format::Json {
            println!("{}", json!({ "written": null, "diagnostics": report::json_diagnostics(&diagnostics) }));
        }
        return Ok(INVALID);
    };
    let built = tree::build(&cluster);
    write::write_tree(&built, out).map_err(|e| e.to_string())?;
    let files = built.files.len();
    match format {
        Format::Json => println!(
            "{}",
            json!({ "written": out.as_str(), "files": files, "directors": cluster.directors.len(), "servers": cluster.real_servers.len(), "diagnostics": report::json_diagnostics(&diagnostics) })
        ),
        Format::Human => {
            eprintln!(
                "lvsdr: wrote {files} files for {} director(s) and {} real server(s) to {out}",
                cluster.directors.len(),
                cluster.real_servers.len()
            )
        }
    }
    Ok(0)
}

fn render(format: Format, style: Style, manifest: &str, server: &str, artifact: &str) -> Result<u8, Failure> {
    let (cluster, diagnostics) = load(format, style, manifest, true)?;
    let Some(cluster) = cluster else {
        if format == Format::Json {
            println!("{}", json!({ "diagnostics": report::json_diagnostics(&diagnostics) }));
        }
        return Ok(INVALID);
    };
    let plans = lvsdr::plan::plan(&cluster);
    let names: Vec<&str> = plans.iter().map(|p| p.host.name().as_str()).collect();
    let plan = plans.iter().find(|p| p.host.name().as_str() == server).ok_or_else(|| {
        format!("no director or real server \"{server}\" in the manifest (hosts: {})", names.join(", "))
    })?;
    let by_id = plan.artifacts.iter().find(|a| a.id == artifact);
    let of_kind: Vec<_> = plan.artifacts.iter().filter(|a| a.kind.as_str() == artifact).collect();
    let chosen = match (by_id, of_kind.as_slice()) {
        (Some(a), _) | (None, &[a]) => a,
        _ => {
            let ids: Vec<&str> = plan.artifacts.iter().map(|a| a.id.as_str()).collect();
            return Err(format!(
                "{} {server} has no single artifact \"{artifact}\" (its artifacts: {})",
                plan.host.role(),
                ids.join(", ")
            ));
        }
    };
    let text = lvsdr::emit::emit(&cluster, plan.host, chosen);
    match format {
        Format::Json => println!(
            "{}",
            json!({ "server": server, "artifact": chosen.id, "install_path": chosen.install_path, "mode": format!("{:04o}", chosen.mode), "contents": text, "diagnostics": report::json_diagnostics(&diagnostics) })
        ),
        Format::Human => {
            std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("writing standard output: {e}"))?;
        }
    }
    Ok(0)
}

fn explain(format: Format, code: Option<&str>) -> Result<u8, Failure> {
    let codes: Vec<Code> = match code {
        None => Code::ALL.to_vec(),
        Some(text) => vec![Code::parse(text)
            .ok_or_else(|| format!("unknown diagnostic code \"{text}\" (run `lvsdr explain` for the list)"))?],
    };
    match format {
        Format::Json => {
            let list: Vec<_> = codes
                .iter()
                .map(|c| json!({ "code": c, "severity": c.severity(), "title": c.title(), "explanation": c.explanation() }))
                .collect();
            println!("{}", json!({ "codes": list }));
        }
        Format::Human if code.is_none() => {
            for c in codes {
                println!("{c}  {}", c.title());
            }
        }
        Format::Human => {
            for c in codes {
                println!("{c}: {}\n\n{}", c.title(), c.explanation());
            }
        }
    }
    Ok(0)
}
