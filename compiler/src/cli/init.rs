//! `lvsdr init`: a commented starting manifest, written to a new file or standard output.

use super::exit::{ExitStatus, Failure};
use super::Settings;
use lvsdr::contract::InitResult;
use std::io::Write;

/// Write a commented starting manifest (YAML; JSON, without comments, for a .json PATH).
#[derive(clap::Args)]
#[command(
    after_long_help = "Examples:\n  lvsdr init                    writes cluster.yaml\n  lvsdr init site/lvs.json\n  lvsdr init - | less"
)]
pub struct Args {
    /// Where to write it; - for standard output. An existing file is left alone.
    #[arg(default_value = "cluster.yaml")]
    path: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<ExitStatus, Failure> {
    let (printer, path) = (&settings.printer, args.path.as_str());
    let text = match lvsdr::Syntax::of_file_name(path) {
        lvsdr::Syntax::Yaml => lvsdr::reference::init_yaml().into_owned(),
        // Same manifest, no comments: JSON has none. A .json PATH; `-` gives the YAML.
        lvsdr::Syntax::Json if path != "-" => {
            let value = lvsdr::manifest_value(&lvsdr::reference::init_yaml(), lvsdr::Syntax::Yaml)
                .expect("the starting manifest is YAML");
            serde_json::to_string_pretty(&value).expect("a JSON value serializes") + "\n"
        }
        lvsdr::Syntax::Json => lvsdr::reference::init_yaml().into_owned(),
    };
    if path == "-" {
        return printer.text(text.into_bytes(), |manifest| InitResult { written: manifest, diagnostics: Vec::new() });
    }
    let write_error = |e: std::io::Error| Failure::write(format!("writing {path}: {e}"));
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            Failure::write(format!("{path} exists; lvsdr init writes only a new file (remove it, or name another)"))
        }
        _ => write_error(e),
    })?;
    // The file is this run's own (create_new): a failed write leaves nothing behind that
    // the next `lvsdr init` would refuse as existing.
    if let Err(error) = file.write_all(text.as_bytes()).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(write_error(error));
    }
    let json = |()| InitResult { written: path.to_owned(), diagnostics: Vec::new() };
    let human = |()| {
        printer
            .note(format_args!("wrote {path}; edit it, then `lvsdr check {path}` and `lvsdr compile {path} -o out`"));
        Ok(())
    };
    printer.result((), json, human)?;
    Ok(ExitStatus::Success)
}
