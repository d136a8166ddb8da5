//! `lvsdr show`: the hosts index.json will describe, as a table or one host in detail.

use super::exit::{ExitStatus, Failure};
use super::manifest::{Loaded, WhenClean};
use super::{complete, Settings};
use lvsdr::contract::{ArtifactEntry, DirectorEntry, InstallKind, RealServerEntry, Role, ShowResult, VipEntry};
use lvsdr::{report, Host, HostEntry};

/// Show each host before compiling: role, platform, address, network stack, ARP
/// suppression, VIPs (with labels) and the artifacts it gets.
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  lvsdr show cluster.yaml\n  lvsdr show cluster.yaml --server web1           one host: its artifacts and steps\n  lvsdr show cluster.json --format json | jq '.servers[].name'"
)]
pub struct Args {
    /// The manifest, or - for standard input.
    manifest: String,
    /// Only this real server or director, in detail.
    #[arg(long, add = clap_complete::engine::ArgValueCandidates::new(complete::host_names))]
    server: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let Loaded { cluster, diagnostics } = settings.reading.load(printer, &args.manifest, WhenClean::Silent)?;
    let Some(cluster) = cluster else {
        let result = |diagnostics| ShowResult { cluster: None, directors: None, servers: None, diagnostics };
        return printer.invalid(result, &diagnostics);
    };
    // Host by host, as a compile renders them: a large cluster's tree is never whole here.
    let hosts: Vec<Host> = match &args.server {
        None => cluster.hosts().collect(),
        Some(server) => vec![cluster.host(server).map_err(|unknown| Failure::usage(unknown.to_string()))?],
    };
    let (mut directors, mut servers) = (Vec::new(), Vec::new());
    for host in hosts {
        match host.entry() {
            HostEntry::Director(entry) => directors.push(entry),
            HostEntry::RealServer(entry) => servers.push(entry),
        }
    }
    let cluster_name = cluster.cluster_name().to_owned();
    let json = |(directors, servers)| ShowResult {
        cluster: Some(cluster_name.clone()),
        directors: Some(directors),
        servers: Some(servers),
        diagnostics: report::json_diagnostics(&diagnostics),
    };
    let human = |(directors, servers): (Vec<DirectorEntry>, Vec<RealServerEntry>)| {
        let text = match args.server {
            None => table(&cluster_name, &directors, &servers),
            Some(_) => detail(&directors, &servers),
        };
        printer.stdout(text.as_bytes())
    };
    printer.result((directors, servers), json, human)?;
    Ok(ExitStatus::Success)
}

/// One row per host: directors first, then real servers.
pub fn table(cluster: &str, directors: &[DirectorEntry], servers: &[RealServerEntry]) -> String {
    let header = ["HOST", "ROLE", "PLATFORM", "ADDRESS", "INTERFACE", "STACK", "ARP", "VIPS", "FILES"];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for d in directors {
        rows.push([
            d.name.clone(),
            Role::Director.to_string(),
            d.platform.clone(),
            d.address.clone(),
            d.interface.clone(),
            "-".into(),
            "-".into(),
            vips(&d.vips),
            d.artifacts.len().to_string(),
        ]);
    }
    for s in servers {
        rows.push([
            s.name.clone(),
            Role::RealServer.to_string(),
            s.platform.clone(),
            s.address.clone(),
            s.interface.clone(),
            s.network_stack.clone(),
            s.arp_suppression.clone(),
            vips(&s.vips),
            s.artifacts.len().to_string(),
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text += cell;
            } else {
                text += &format!("{cell:<width$}  ", width = widths[i]);
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = format!("cluster {cluster}: {} director(s), {} real server(s)\n", directors.len(), servers.len());
    out += &line(&header.map(String::from));
    for row in &rows {
        out += &line(row);
    }
    out
}

/// `10.0.0.100 (eth0:100), 10.0.0.101`
fn vips(vips: &[VipEntry]) -> String {
    if vips.is_empty() {
        return "-".into();
    }
    let each: Vec<String> = vips
        .iter()
        .map(|v| match &v.label {
            Some(label) => format!("{} ({label})", v.address),
            None => v.address.clone(),
        })
        .collect();
    each.join(", ")
}

/// One host: its facts, VIPs with services, artifacts with install paths, and steps.
pub fn detail(directors: &[DirectorEntry], servers: &[RealServerEntry]) -> String {
    let mut out = String::new();
    for d in directors {
        out += &format!(
            "{} ({})\n  platform   {}\n  address    {} on {}\n",
            d.name,
            Role::Director,
            d.platform,
            d.address,
            d.interface
        );
        out += &address6_line(d.address6.as_deref());
        out += &vip_lines(&d.vips);
        out += &artifact_lines(&d.artifacts);
    }
    for s in servers {
        out += &format!(
            "{} ({})\n  platform   {}\n  address    {} on {}\n",
            s.name,
            Role::RealServer,
            s.platform,
            s.address,
            s.interface
        );
        out += &address6_line(s.address6.as_deref());
        out += &format!("  network    {}\n  ARP        {}\n", s.network_stack, s.arp_suppression);
        out += &vip_lines(&s.vips);
        out += &artifact_lines(&s.artifacts);
        let steps = [
            ("enable", s.steps.enable.iter().map(|st| st.argv.join(" ")).collect::<Vec<_>>()),
            ("boot", {
                let boot = s.steps.boot_before_network.iter().chain(&s.steps.boot_after_network);
                boot.map(|st| format!("{} (by {})", st.argv.join(" "), st.by)).collect()
            }),
            ("apply", s.steps.apply.iter().map(|st| st.argv.join(" ")).collect()),
        ];
        out += "  steps\n";
        for (phase, commands) in steps {
            for (i, command) in commands.iter().enumerate() {
                out += &format!("    {:<7}{command}\n", if i == 0 { phase } else { "" });
            }
        }
    }
    out
}

/// `  address6   2001:db8:10::11/64`, for a host that has one.
fn address6_line(address6: Option<&str>) -> String {
    address6.map(|a| format!("  address6   {a}\n")).unwrap_or_default()
}

fn vip_lines(vips: &[VipEntry]) -> String {
    let mut out = String::from("  VIPs\n");
    for v in vips {
        let label = v.label.as_deref().map(|l| format!(" as {l}")).unwrap_or_default();
        out += &format!("    {}{label}: {}\n", v.address, v.services.join(", "));
    }
    out
}

fn artifact_lines(artifacts: &[ArtifactEntry]) -> String {
    let mut out = String::from("  artifacts\n");
    let width = artifacts.iter().map(|a| a.id.len()).max().unwrap_or(0);
    for a in artifacts {
        let how = match a.install {
            InstallKind::File => "file ",
            InstallKind::Block => "block",
        };
        out += &format!("    {:<width$}  {how} {}  {}\n", a.id, a.mode, a.install_path);
    }
    out
}
