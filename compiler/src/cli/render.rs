//! `lvsdr render`: one artifact of one host, on standard output as it renders.

use super::exit::{ExitStatus, Failure};
use super::manifest::{Loaded, WhenClean};
use super::printer::stdout_outcome;
use super::{complete, Settings};
use lvsdr::contract::{RenderResult, RenderedArtifact};
use lvsdr::model::Cluster;
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
    let (server, artifact) = (args.server.as_str(), args.artifact.as_str());
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
            return Err(Failure::usage(format!(
                "{} {server} has no single artifact \"{artifact}\"; {close}(its artifacts: {})",
                plan.role(),
                ids.join(", ")
            )));
        }
    };
    let placement = placements[chosen];
    let json = |()| RenderResult {
        artifact: Some(RenderedArtifact {
            server: server.to_owned(),
            artifact: placement.id.clone(),
            install_path: placement.install_path.clone(),
            mode: format!("{:04o}", placement.mode),
            contents: lvsdr::emit::emit(&cluster, plan, chosen),
        }),
        diagnostics: report::json_diagnostics(&diagnostics),
    };
    // Written as it renders: a director's file is tens of MB in a large cluster.
    printer.result((), json, |()| {
        let mut out = StdoutText { out: std::io::BufWriter::new(std::io::stdout().lock()), error: None };
        let written = match lvsdr::emit::emit_into(&cluster, plan, chosen, &mut out) {
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

/// The number of the host named `name`, found without planning every host.
pub fn host_number(cluster: &Cluster, name: &str) -> Result<usize, Failure> {
    let hosts = lvsdr::plan::host_count(cluster);
    (0..hosts).find(|&n| lvsdr::plan::host_name(cluster, n).as_str() == name).ok_or_else(|| {
        let names: Vec<&str> = (0..hosts).map(|n| lvsdr::plan::host_name(cluster, n).as_str()).collect();
        let close = suggestion(name, &names);
        Failure::usage(format!(
            "no director or real server \"{name}\" in the manifest; {close}(hosts: {})",
            names.join(", ")
        ))
    })
}

/// `did you mean "web1"? ` when a name is close to `word`, else nothing.
fn suggestion(word: &str, names: &[&str]) -> String {
    lvsdr::diag::did_you_mean(word, names.iter().copied())
        .map(|c| format!("did you mean \"{c}\"? "))
        .unwrap_or_default()
}
