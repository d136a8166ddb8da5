//! The platform table's facts in the words prose uses: `{platforms}`, `{releases}` and
//! `{on:FACT}` in a text (the codes' explanations, the schemas' descriptions, `lvsdr
//! init`'s manifest) become the releases of `platform`'s table, so that a new release
//! is named in every sentence about releases without anyone editing the sentence.

use crate::keywords::{Failover, NetworkStack, Suppression, SuppressionTool};
use crate::platform::{InitSystem, MarkTool, Platform, Profile};
use std::borrow::Cow;

/// A fact of a release, as a sentence names it in `{on:NAME}`.
type Fact = fn(&Profile) -> bool;

/// Every fact prose may name; `{on:NAME}` with another name is a bug (`expand` panics,
/// and the tests expand every text).
const FACTS: &[(&str, Fact)] = &[
    ("piranha", |p| p.failover == Failover::Piranha),
    ("keepalived", |p| p.failover == Failover::Keepalived),
    ("keepalived-1", |p| p.failover == Failover::Keepalived && !p.keepalived_2),
    ("keepalived-2", |p| p.keepalived_2),
    ("sysv", |p| p.init == InitSystem::SysV),
    ("systemd", |p| p.init == InitSystem::Systemd),
    ("firewalld", |p| p.firewalld),
    ("no-firewalld", |p| !p.firewalld),
    ("ipv6", |p| p.ipv6_vips),
    ("no-ipv6", |p| !p.ipv6_vips),
    ("arptables_jf", |p| p.dialects.contains(&Suppression::ArptablesJf)),
    ("arptables", |p| p.dialects.contains(&Suppression::Arptables)),
    ("nftables", |p| p.dialects.contains(&Suppression::Nftables)),
    ("default-arptables", |p| p.default_tool == SuppressionTool::Arptables),
    ("default-nftables", |p| p.default_tool == SuppressionTool::Nftables),
    ("default-arptables_jf", |p| p.suppression(p.default_tool) == Some(Suppression::ArptablesJf)),
    ("default-arptables-dialect", |p| p.suppression(p.default_tool) == Some(Suppression::Arptables)),
    ("initscripts", |p| p.network_stacks.contains(&NetworkStack::Initscripts)),
    ("networkmanager", |p| p.network_stacks.contains(&NetworkStack::NetworkManager)),
    ("default-initscripts", |p| p.network_stacks[0] == NetworkStack::Initscripts),
    ("default-networkmanager", |p| p.network_stacks[0] == NetworkStack::NetworkManager),
    ("initscripts-only", |p| p.network_stacks == [NetworkStack::Initscripts]),
    ("networkmanager-only", |p| p.network_stacks == [NetworkStack::NetworkManager]),
    ("both-stacks", |p| p.network_stacks.len() == 2),
    ("marks-iptables", |p| p.director_marks == MarkTool::Iptables),
    ("marks-nftables", |p| p.director_marks == MarkTool::Nftables),
];

/// The releases with `fact`, as prose says them: `el7`, `el4-el6`, `el8+` (a run that
/// reaches the newest release), runs joined by ", "; "no release" when none has it.
pub fn releases_with(fact: Fact) -> String {
    let all = Platform::ALL;
    let mut runs = Vec::new();
    let mut i = 0;
    while i < all.len() {
        if !fact(all[i].profile()) {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < all.len() && fact(all[i + 1].profile()) {
            i += 1;
        }
        runs.push(match (start == i, i + 1 == all.len() && start + 1 < all.len()) {
            (true, _) => all[start].to_string(),
            (false, true) => format!("{}+", all[start]),
            (false, false) => format!("{}-{}", all[start], all[i]),
        });
        i += 1;
    }
    if runs.is_empty() {
        "no release".to_owned()
    } else {
        runs.join(", ")
    }
}

/// The named fact.
fn fact(name: &str) -> Fact {
    FACTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("prose names an unknown platform fact {{on:{name}}}"))
}

/// `text` with its platform tokens replaced: `{platforms}` (each release, in backquotes),
/// `{releases}` (the first to the last, `el4-el10`) and `{on:FACT}`.
pub fn expand(text: &str) -> Cow<'_, str> {
    if !text.contains("{platforms}") && !text.contains("{releases}") && !text.contains("{on:") {
        return Cow::Borrowed(text);
    }
    let all = Platform::ALL;
    let mut out = text
        .replace("{platforms}", &all.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" "))
        .replace("{releases}", &format!("{}-{}", all[0], all[all.len() - 1]));
    while let Some(start) = out.find("{on:") {
        let end = start + out[start..].find('}').expect("a {on:FACT} token is closed");
        let name = out[start + 4..end].to_owned();
        out.replace_range(start..=end, &releases_with(fact(&name)));
    }
    Cow::Owned(out)
}

/// Expands every string under a JSON value's `description` keys (a schema's).
pub fn expand_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match member {
                    serde_json::Value::String(text) if key == "description" => {
                        if let Cow::Owned(expanded) = expand(text) {
                            *text = expanded;
                        }
                    }
                    other => expand_descriptions(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(expand_descriptions),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
        serde_json::Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_said_as_prose_says_them() {
        assert_eq!(releases_with(|p| p.failover == Failover::Piranha), "el4-el6");
        assert_eq!(releases_with(|p| p.failover == Failover::Keepalived), "el7+");
        assert_eq!(releases_with(|p| p.platform == Platform::El7), "el7");
        assert_eq!(releases_with(|_| false), "no release");
        assert_eq!(expand("{on:both-stacks} have both"), "el7-el8 have both");
    }

    /// Every fact is true of some release and false of another (or it says nothing).
    #[test]
    fn every_fact_tells_releases_apart() {
        for (name, fact) in FACTS {
            let with = Platform::ALL.iter().filter(|p| fact(p.profile())).count();
            assert!(0 < with && with < Platform::ALL.len(), "{{on:{name}}} holds for {with} releases");
        }
    }
}
