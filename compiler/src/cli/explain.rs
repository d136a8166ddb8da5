//! `lvsdr explain`: a diagnostic code's explanation, every code's title, or `boot`.

use super::exit::{ExitStatus, Failure};
use super::{complete, Settings};
use lvsdr::contract::{CodeEntry, ExplainResult};
use lvsdr::Code;

/// Explain a diagnostic code (E0012, W0001, ...), or `boot` (each platform's boot and
/// change model); without CODE, list the codes.
#[derive(clap::Args)]
pub struct Args {
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(complete::codes))]
    code: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let printer = &settings.printer;
    let code = args.code.as_deref();
    if code == Some("boot") {
        let json = |explanation| ExplainResult {
            codes: vec![CodeEntry {
                code: "boot".into(),
                severity: "info".into(),
                title: "how each platform boots a real server, and how a change is applied".into(),
                explanation,
            }],
            diagnostics: Vec::new(),
        };
        let human = |explanation: String| printer.stdout(explanation.as_bytes());
        printer.result(lvsdr::explain_boot(), json, human)?;
        return Ok(ExitStatus::Success);
    }
    let codes: Vec<Code> = match code {
        None => Code::ALL.to_vec(),
        Some(text) => vec![Code::parse(text).ok_or_else(|| {
            Failure::usage(format!("unknown diagnostic code \"{text}\" (run `lvsdr explain` for the list)"))
        })?],
    };
    let json = |codes: Vec<Code>| {
        let codes = codes
            .iter()
            .map(|c| CodeEntry {
                code: c.as_str().to_owned(),
                severity: c.severity().as_str().to_owned(),
                title: c.title().to_owned(),
                explanation: c.explanation().into_owned(),
            })
            .collect();
        ExplainResult { codes, diagnostics: Vec::new() }
    };
    let human = |codes: Vec<Code>| {
        for c in codes {
            match code {
                // The list: a title a line.
                None => printer.line(format_args!("{c}  {}", c.title())),
                Some(_) => printer.line(format_args!("{c}: {}\n\n{}", c.title(), c.explanation())),
            }
        }
        Ok(())
    };
    printer.result(codes, json, human)?;
    Ok(ExitStatus::Success)
}
