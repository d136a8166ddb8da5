//! Single values: names, uniqueness, interfaces and keywords, each reported where it is written.

use super::entry::{At, Entry, What};
use super::quoted;
use crate::codes::Code;
use crate::diag::{did_you_mean, Diagnostic};
use crate::model::{Interface, Name, Platform};
use rustc_hash::FxHashMap as HashMap;
use smol_str::SmolStr;

/// Names declared so far: in which entry, and as what (a director, a real server, a service).
pub type Declared<'m> = HashMap<&'m str, (Entry, What)>;

/// `text` as a `Name`, or an E0006 with a suggestion.
pub fn name(found: &mut Vec<Diagnostic>, text: &SmolStr, at: At, what: &str) -> Option<Name> {
    let name = Name::of(text);
    if name.is_none() {
        let suggestion: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .chars()
            .take(63)
            .collect();
        let diagnostic =
            Diagnostic::new(Code::InvalidName, at.path(), format!("{what} has an invalid name {}", quoted(text)));
        let rule = "names are 1-63 of a-z, 0-9 and '-', starting with a letter or digit";
        found.push(match Name::parse(&suggestion) {
            Some(s) if text.is_ascii() => diagnostic.hint(format!("{rule}: try \"{}\"", s.as_str())),
            _ => diagnostic.hint(format!("{rule} (ASCII only: look-alike letters are rejected)")),
        });
    }
    name
}

/// Reports a second declaration of `text`, the name of `entry`, among `declared`.
pub fn unique<'m>(found: &mut Vec<Diagnostic>, declared: &mut Declared<'m>, text: &'m str, entry: Entry, what: What) {
    if let Some((first, first_what)) = declared.get(text) {
        let message = if *first_what == what {
            format!("{what} name {} is used twice", quoted(text))
        } else {
            format!("{what} name {} is already the name of a {first_what}", quoted(text))
        };
        let hint = format!("first declared at {}; rename one of them", first.key("name"));
        found.push(Diagnostic::new(Code::DuplicateName, entry.key("name"), message).hint(hint));
    } else {
        declared.insert(text, (entry, what));
    }
}

pub fn platform(found: &mut Vec<Diagnostic>, text: &str, at: At) -> Option<Platform> {
    let platform = Platform::parse(text);
    if platform.is_none() {
        let mut diagnostic = enum_error(Code::UnknownPlatform, &at.path(), "platform", text, &Platform::names());
        // "rhel6", "CentOS 7", "rocky-9": a distribution's name for a release lvsdr knows.
        let release: String =
            text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
        let named = text.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim_start_matches([' ', '-', '_']);
        if named.starts_with(&release) && !release.is_empty() {
            let el = format!("el{release}");
            if Platform::parse(&el).is_some() {
                diagnostic = diagnostic.hint(format!(
                    "did you mean \"{el}\"? (platform is the Enterprise Linux release: one of {})",
                    Platform::names().join(", ")
                ));
            }
        }
        found.push(diagnostic);
    }
    platform
}

pub fn interface(found: &mut Vec<Diagnostic>, text: &str, at: At) -> Option<Interface> {
    let interface = Interface::parse(text);
    if interface.is_none() {
        let hint = if let Some((parent, _)) = text.split_once(':') {
            format!("write the parent interface \"{}\": lvsdr adds the alias suffix itself", parent.escape_debug())
        } else {
            "an interface name is 1-15 of A-Z, a-z, 0-9, '_', '.', '-' (e.g. eth0, ens192, bond0.100)".into()
        };
        found.push(
            Diagnostic::new(Code::InvalidInterface, at.path(), format!("invalid interface name {}", quoted(text)))
                .hint(hint),
        );
    }
    interface
}

/// An unknown keyword, with the closest known one.
pub fn enum_error(code: Code, path: &str, what: &str, text: &str, allowed: &[&str]) -> Diagnostic {
    let lower = text.to_ascii_lowercase();
    let hint = match did_you_mean(&lower, allowed.iter().copied()) {
        Some(close) => format!("did you mean \"{close}\"? ({what} is one of {})", allowed.join(", ")),
        None => format!("{what} is one of {}", allowed.join(", ")),
    };
    Diagnostic::new(code, path, format!("unknown {what} {}", quoted(text))).hint(hint)
}
