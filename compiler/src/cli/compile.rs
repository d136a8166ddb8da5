//! `lvsdr compile`: the manifest's artifacts written under OUT, or with `--check` OUT
//! compared with them.

use super::exit::{ExitStatus, Failure};
use super::manifest::Loaded;
use super::Settings;
use camino::{Utf8Path, Utf8PathBuf};
use lvsdr::contract::{self, CompileCheckResult, CompileResult};
use lvsdr::{report, review, write};

/// Validate MANIFEST and write every server's artifacts under OUT.
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  lvsdr compile cluster.json -o out              compile, writing only what changed\n  lvsdr compile cluster.yaml -o out --check      CI: fail with a diff when out/ is stale\n  lvsdr compile - -o out --input-format yaml < cluster.yaml\n  lvsdr compile cluster.json -o out --format json | jq .method"
)]
pub struct Args {
    /// The manifest, or - for standard input.
    manifest: String,
    /// The output directory (replaced atomically; only ever a tree lvsdr wrote).
    #[arg(short, long)]
    out: Utf8PathBuf,
    /// Write nothing: exit 0 when OUT is exactly what MANIFEST compiles to, else 1 with a unified diff.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    super::allocator::return_freed_memory_at_once();
    match args.check {
        true => check(settings, &args.manifest, &args.out),
        false => compile(settings, &args.manifest, &args.out),
    }
}

fn compile(settings: &Settings, manifest: &str, out: &Utf8Path) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let (Loaded { cluster, diagnostics }, digest) = settings.reading.load_and_digest(printer, manifest)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| CompileResult {
            written: None,
            files: None,
            method: None,
            changed_files: None,
            removed_files: None,
            directors: None,
            servers: None,
            warnings: Vec::new(),
            diagnostics,
        };
        return printer.invalid(result, &diagnostics);
    };
    let written = write::compile(&cluster, &digest, out).map_err(|e| Failure::write(e.to_string()))?;
    let (files, directors, servers) = (written.files, cluster.director_count(), cluster.real_server_count());
    // Freeing a large cluster's model takes longer than the process's exit.
    std::mem::forget(cluster);
    let method = match written.method {
        write::Method::WholeTree => contract::WriteMethod::WholeTree,
        write::Method::Update => contract::WriteMethod::Update,
        write::Method::Unchanged => contract::WriteMethod::Unchanged,
    };
    let json = |()| CompileResult {
        written: Some(out.to_string()),
        files: Some(files),
        method: Some(method),
        changed_files: Some(written.written),
        removed_files: Some(written.removed),
        directors: Some(directors),
        servers: Some(servers),
        warnings: written.warnings.clone(),
        diagnostics: report::json_diagnostics(&diagnostics),
    };
    printer.result((), json, |()| {
        let hosts = format!("{directors} director(s) and {servers} real server(s)");
        match written.method {
            write::Method::WholeTree => printer.note(format_args!("wrote {files} files for {hosts} to {out}")),
            write::Method::Update => printer.note(format_args!(
                "updated {out} for {hosts}: {} file(s) written, {} removed, {} unchanged",
                written.written,
                written.removed,
                files - written.written
            )),
            write::Method::Unchanged => {
                printer.note(format_args!("{out} is up to date ({files} files for {hosts}); nothing written"))
            }
        }
        for warning in &written.warnings {
            printer.note(format_args!("warning: {warning}"));
        }
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

/// `compile --check`: compares OUT on disk with the compiled tree, writing nothing.
fn check(settings: &Settings, manifest: &str, out: &Utf8Path) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let Loaded { cluster, diagnostics } =
        settings.reading.load(printer, manifest, super::manifest::WhenClean::Silent)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| CompileCheckResult { up_to_date: None, changes: None, diagnostics };
        return printer.invalid(result, &diagnostics);
    };
    let changes = write::check(&cluster, out).map_err(|e| Failure::read(e.to_string()))?;
    let json = |()| CompileCheckResult {
        up_to_date: Some(changes.is_empty()),
        changes: Some(review::entries(&changes)),
        diagnostics: report::json_diagnostics(&diagnostics),
    };
    printer.result((), json, |()| {
        if changes.is_empty() {
            printer.note(format_args!("{out} is up to date"));
            return Ok(());
        }
        printer.stdout(printer.review(&changes).as_bytes())?;
        printer.note(format_args!("{out} differs from what the manifest compiles to in {} file(s)", changes.len()));
        Ok(())
    })?;
    Ok(ExitStatus::differs_if(!changes.is_empty()))
}
