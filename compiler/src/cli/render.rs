//! `lvsdr render`: one artifact of one host, on standard output as it renders.

use super::exit::{ExitStatus, Failure};
use super::manifest::{Loaded, WhenClean};
use super::printer::stdout_outcome;
use super::{complete, Settings};
use lvsdr::contract::{RenderResult, RenderedArtifact};
use lvsdr::report;
use std::io::Write;

/// Print one artifact of one real server or director to standard output.
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  lvsdr render cluster.json --server web1 --artifact vips\n  lvsdr render cluster.json --server lvs1 --artifact keepalived > /etc/keepalived/keepalived.conf"
)]
pub struct Args {
    /// The manifest, or - for standard input.
    manifest: String,
    /// The real server's or director's name.
    #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::host_names))]
    server: String,
    /// The artifact's id (as in index.json: arptables, nftables, rc-local, ifcfg-eth0:100,
    /// keepalived, ipvsadm, ...) or its kind when the host has one artifact of that kind.
    #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::artifact_ids))]
    artifact: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let Loaded { cluster, diagnostics } = settings.reading.load(printer, &args.manifest, WhenClean::Silent)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| RenderResult { artifact: None, diagnostics };
        return printer.invalid(result, &diagnostics);
    };
    let server = args.server.as_str();
    let host = cluster.host(server).map_err(|unknown| Failure::usage(unknown.to_string()))?;
    let artifacts = host.artifacts();
    let chosen = artifacts.find(&args.artifact).map_err(|missing| Failure::usage(missing.to_string()))?;
    let json = |()| {
        let place = artifacts.place(chosen);
        RenderResult {
            artifact: Some(RenderedArtifact {
                server: server.to_owned(),
                artifact: place.id.to_owned(),
                install_path: place.install_path.to_owned(),
                mode: format!("{:04o}", place.mode),
                contents: artifacts.render(chosen),
            }),
            diagnostics: report::json_diagnostics(&diagnostics),
        }
    };
    // Written as it renders: a director's file is tens of MB in a large cluster.
    printer.result((), json, |()| {
        let mut out = StdoutText { out: std::io::BufWriter::new(std::io::stdout().lock()), error: None };
        let written = match artifacts.render_into(chosen, &mut out) {
            Ok(()) => out.out.flush(),
            Err(_) => {
                Err(out.error.take().unwrap_or_else(|| std::io::Error::other("the artifact could not be rendered")))
            }
        };
        stdout_outcome(written)
    })?;
    Ok(ExitStatus::Success)
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
