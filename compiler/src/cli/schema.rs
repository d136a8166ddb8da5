//! `lvsdr schema`: a JSON Schema, the manifest's, index.json's or a command's result's.

use super::exit::{ExitStatus, Failure};
use super::Settings;
use clap::ValueEnum;
use lvsdr::contract;
use lvsdr::schema::{manifest_schema, of};

/// Print a JSON Schema (draft 2020-12): the manifest's, index.json's, or a command's `--format json` result.
#[derive(clap::Args)]
pub struct Args {
    /// What to describe.
    #[arg(value_enum, default_value_t = SchemaOf::Manifest)]
    what: SchemaOf,
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

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let schema = match args.what {
        SchemaOf::Manifest => manifest_schema(),
        SchemaOf::Index => of::<contract::Index>(),
        SchemaOf::Check => of::<contract::CheckResult>(),
        SchemaOf::Compile => of::<contract::CompileResult>(),
        SchemaOf::CompileCheck => of::<contract::CompileCheckResult>(),
        SchemaOf::Diff => of::<contract::DiffResult>(),
        SchemaOf::Render => of::<contract::RenderResult>(),
        SchemaOf::Show => of::<contract::ShowResult>(),
        SchemaOf::Init => of::<contract::InitResult>(),
        SchemaOf::Explain => of::<contract::ExplainResult>(),
        SchemaOf::Failure => of::<contract::FailureResult>(),
        SchemaOf::Probe => of::<contract::ProbeResult>(),
        SchemaOf::Verify => of::<contract::VerifyResult>(),
    };
    // The schema itself is the text; JSON wraps it in the schema command's result.
    let text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes") + "\n";
    settings.printer.text(text.into_bytes(), |_| contract::SchemaResult { schema, diagnostics: Vec::new() })
}
