//! `lvsdr probe`: which hosts answer ARP (IPv6: Neighbour Discovery) for each VIP on the
//! live segment, judged and said as text, JSON, a Nagios status or a Prometheus textfile;
//! `packets` does the asking.

mod packets;

use super::exit::{ExitStatus, Failure};
use super::manifest::{Loaded, WhenClean};
use super::printer::Format;
use super::Settings;
use lvsdr::contract::{ProbeResult, ProbeState};
use lvsdr::{report, Code};
use std::time::Duration;

/// On the live segment, as root: which hosts answer ARP (IPv6: Neighbour Discovery) for
/// each VIP. Exactly one director is ok; none is down; more, or a real server, is a leak.
#[derive(clap::Args)]
#[command(
    after_long_help = "It sends only ARP requests and Neighbour Solicitations, and only for the manifest's VIPs and hosts' own addresses (whose answers name the MACs), COUNT times each, then listens for WINDOW ms; every ARP or Neighbour Discovery frame from another host that claims a VIP counts too.

Exit status: 0 every VIP ok; 1 a VIP down, leaking or answered by an unknown MAC; 2 usage or IO error. With --format nagios: 0 OK, 1 WARNING (unknown responder), 2 CRITICAL (down or leak), 3 UNKNOWN (the probe could not run).

Examples:
  lvsdr probe cluster.yaml --interface eth0
  lvsdr probe cluster.yaml -i eth0 --format nagios          an NRPE command
  lvsdr probe cluster.yaml -i eth0 --format prometheus > /var/lib/node_exporter/lvsdr.prom.$$ && mv ...
  lvsdr probe cluster.yaml -i eth0 --watch 10               a line per change, until stopped"
)]
pub struct Args {
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
}

/// The cluster's VIPs asked for on the segment, judged, and said in the chosen format;
/// with `--watch`, again every so many seconds until stopped.
pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let format = printer.format();
    if args.watch.is_some() && !matches!(format, Format::Human | Format::Json) {
        return Err(Failure::usage("--watch prints a line per change (human) or a JSON line per probe (json)"));
    }
    let Loaded { cluster, diagnostics } = settings.reading.load(printer, &args.manifest, WhenClean::Silent)?;
    let Some(cluster) = cluster else {
        return Err(Failure::new(Code::ProbeError, format!("{} is not a valid manifest", args.manifest)));
    };
    let plan = lvsdr::probe::Plan::of(&cluster);
    let options =
        packets::Options { interface: args.interface, count: args.count, window: Duration::from_millis(args.window) };
    let once = || -> Result<ProbeResult, Failure> {
        let observed = packets::exchange(&plan, &options).map_err(|message| Failure::new(Code::ProbeError, message))?;
        let window_ms = u64::try_from(options.window.as_millis()).unwrap_or(u64::MAX);
        let mut result = lvsdr::probe::judge(&plan, &options.interface, window_ms, observed.sent, &observed.seen);
        result.diagnostics = report::json_diagnostics(&diagnostics);
        Ok(result)
    };
    let Some(seconds) = args.watch else {
        let result = once()?;
        match format {
            Format::Json => printer.json(&result),
            Format::Nagios => {
                printer.stdout(lvsdr::probe::nagios(&result).as_bytes())?;
                return Ok(ExitStatus::Plugin(lvsdr::probe::nagios_status(result.state)));
            }
            Format::Prometheus => printer.stdout(lvsdr::probe::prometheus(&result).as_bytes())?,
            Format::Human | Format::Github => printer.stdout(lvsdr::probe::human(&result).as_bytes())?,
        }
        return Ok(ExitStatus::differs_if(result.state != ProbeState::Ok));
    };
    let mut last: Option<ProbeResult> = None;
    loop {
        let result = once()?;
        let stamp = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let human = |result: &ProbeResult| {
            let stamp = stamp();
            for line in lvsdr::probe::changes(last.as_ref(), result) {
                printer.line(format_args!("{stamp} {line}"));
            }
            Ok(())
        };
        printer.result(&result, |result| result, human)?;
        last = Some(result);
        std::thread::sleep(Duration::from_secs(seconds));
    }
}
