//! A service's health check (and a member's override of it), sorry server and quorum:
//! the director-side keys of a service, checked where they are written.

use super::entry::{Entry, Who};
use super::hosts::AddressBook;
use super::ids::ServerId;
use super::quoted;
use super::values::enum_error;
use crate::codes::Code;
use crate::diag::{pointer, Diagnostic};
use crate::model::limits::{CHECK_RETRIES_MAX, CHECK_RETRIES_MIN, CHECK_SECONDS_MAX, QUORUM_MAX};
use crate::model::{
    CheckType, CheckWord, Expect, HealthCheck, Hostname, Member, OnFailure, Probe, Protocol, Quorum, UrlPath,
};
use crate::raw;
use smol_str::SmolStr;
use std::net::IpAddr;

/// The defaults of a check's timing: keepalived's `delay_loop 6` and `connect_timeout 3`
/// as lvsdr has always written them.
pub const DEFAULT_INTERVAL: u16 = 6;
pub const DEFAULT_TIMEOUT: u16 = 3;

/// The service a check belongs to, as the check needs it.
#[derive(Clone, Copy)]
pub struct CheckedService<'a> {
    pub entry: Entry,
    pub who: &'a Who,
    pub protocol: Protocol,
    /// The port a check connects to unless told (none for a service on every port).
    pub check_port: Option<u16>,
}

/// Where a check's keys were written: the service's object, and a member's override.
struct Layers<'r> {
    service: Option<&'r raw::HealthCheck>,
    member: Option<(&'r raw::HealthCheck, String)>,
    service_path: String,
}

/// The keys that belong to one type of check. A member that names its own `type` starts
/// afresh with these; the timing keys it still takes from the service.
const TYPE_KEYS: [&str; 6] = ["port", "path", "status", "digest", "host", "command"];

impl<'r> Layers<'r> {
    /// Whether a member names its own type.
    fn member_type(&self) -> bool {
        self.member.as_ref().is_some_and(|(m, _)| m.kind.is_some())
    }

    /// A key's value, the member's over the service's, and the pointer to where it is.
    fn get<T: ?Sized>(
        &self,
        key: &str,
        field: impl Fn(&'r raw::HealthCheck) -> Option<&'r T>,
    ) -> Option<(&'r T, String)> {
        if let Some((member, path)) = &self.member {
            if let Some(value) = field(member) {
                return Some((value, pointer(path, key)));
            }
        }
        if self.member_type() && TYPE_KEYS.contains(&key) {
            return None;
        }
        self.service.and_then(field).map(|value| (value, pointer(&self.service_path, key)))
    }
}

/// The health check of `service` (`member`: one member's override, with its pointer);
/// `None` after an error.
pub fn health_check(
    found: &mut Vec<Diagnostic>,
    service: CheckedService<'_>,
    raw_service: Option<&raw::HealthCheck>,
    member: Option<(&raw::HealthCheck, String)>,
) -> Option<HealthCheck> {
    let layers = Layers { service: raw_service, member, service_path: service.entry.key("health_check") };
    let who = service.who;
    let before = found.len();
    let kind = match layers.get("type", |h| h.kind.as_ref()) {
        Some((text, path)) => CheckType::parse(text).map(Some).unwrap_or_else(|| {
            found.push(enum_error(Code::UnknownCheckKeyword, &path, "health check type", text, &CheckType::names()));
            None
        }),
        // A TCP service with a port is checked by connecting; a UDP or all-ports one by a ping.
        None if service.protocol == Protocol::Tcp && service.check_port.is_some() => Some(CheckType::Tcp),
        None => None,
    };
    let seconds = |found: &mut Vec<Diagnostic>, key: &str, value: Option<(&i64, String)>, default: u16| {
        let Some((&value, path)) = value else { return Some(default) };
        let valid = u16::try_from(value).ok().filter(|v| (1..=CHECK_SECONDS_MAX).contains(&i64::from(*v)));
        if valid.is_none() {
            found.push(
                Diagnostic::new(
                    Code::HealthCheckValue,
                    path,
                    format!("{who} has a health check {key} of {value}, outside 1-{CHECK_SECONDS_MAX} seconds"),
                )
                .hint("times are whole seconds"),
            );
        }
        valid
    };
    let interval = seconds(found, "interval", layers.get("interval", |h| h.interval.as_ref()), DEFAULT_INTERVAL);
    let timeout = seconds(found, "timeout", layers.get("timeout", |h| h.timeout.as_ref()), DEFAULT_TIMEOUT);
    let retry_delay = match layers.get("retry_delay", |h| h.retry_delay.as_ref()) {
        Some(value) => seconds(found, "retry_delay", Some(value), 0).map(Some),
        None => Some(None),
    };
    let retries = match layers.get("retries", |h| h.retries.as_ref()) {
        Some((&value, path)) => {
            let valid =
                u8::try_from(value).ok().filter(|v| (CHECK_RETRIES_MIN..=CHECK_RETRIES_MAX).contains(&i64::from(*v)));
            if valid.is_none() {
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckValue,
                        path,
                        format!("{who} has a health check retries of {value}, outside {CHECK_RETRIES_MIN}-{CHECK_RETRIES_MAX}"),
                    )
                    .hint("retries counts the checks retried after a failed one before the server is taken out"),
                );
            }
            valid.map(Some)
        }
        None => Some(None),
    };
    let on_failure = match layers.get("on_failure", |h| h.on_failure.as_ref()) {
        Some((text, path)) => OnFailure::parse(text).or_else(|| {
            found.push(enum_error(Code::UnknownCheckKeyword, &path, "on_failure", text, &OnFailure::names()));
            None
        }),
        None => Some(OnFailure::Remove),
    };

    // Which keys the type takes; the rest are reported where they are written.
    let takes: &[&str] = match kind {
        Some(CheckType::Tcp) => &["port"],
        Some(CheckType::Http | CheckType::Https) => &["port", "path", "status", "digest", "host"],
        Some(CheckType::Command) => &["port", "command"],
        Some(CheckType::None) => &[],
        // The default ping takes the timing keys only.
        None => &[],
    };
    let specific: [(&str, bool); 6] = [
        ("port", layers.get("port", |h| h.port.as_ref()).is_some()),
        ("path", layers.get("path", |h| h.path.as_ref()).is_some()),
        ("status", layers.get("status", |h| h.status.as_ref()).is_some()),
        ("digest", layers.get("digest", |h| h.digest.as_ref()).is_some()),
        ("host", layers.get("host", |h| h.host.as_ref()).is_some()),
        ("command", layers.get("command", |h| h.command.as_ref()).is_some()),
    ];
    let type_text = kind.map_or("ping (the default of a UDP or all-ports service)", |k| k.as_str());
    let type_known = kind.is_some() || layers.get("type", |h| h.kind.as_ref()).is_none();
    for (key, present) in specific {
        if present && !takes.contains(&key) && type_known {
            let hint = match key {
                "command" => "give \"type\": \"command\"",
                "port" if kind.is_none() => "give the check a type (\"tcp\", \"http\", ...) to check a port",
                "port" => "a none check connects nowhere: remove the key",
                _ => "give \"type\": \"http\" or \"https\" to check a URL",
            };
            let path = key_path(&layers, key).unwrap_or_default();
            found.push(
                Diagnostic::new(
                    Code::HealthCheckKey,
                    path,
                    format!("{who}'s health check is {type_text}, which takes no {key}"),
                )
                .hint(hint),
            );
        }
    }
    if kind == Some(CheckType::None) {
        // The keys written beside the `none`: a member's `none` drops the service's timing.
        let beside_none = Layers {
            service: if layers.member_type() { None } else { layers.service },
            member: layers.member.clone(),
            service_path: layers.service_path.clone(),
        };
        for key in ["interval", "timeout", "retries", "retry_delay", "on_failure"] {
            if let Some(path) = key_path(&beside_none, key) {
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckKey,
                        path,
                        format!("{who}'s health check is none, which takes no {key}"),
                    )
                    .hint("a real server that is never checked is never taken out: remove the key"),
                );
            }
        }
    }

    let port = match layers.get("port", |h| h.port.as_ref()) {
        Some((&value, path)) => u16::try_from(value).ok().filter(|p| *p != 0).or_else(|| {
            found.push(
                Diagnostic::new(
                    Code::HealthCheckValue,
                    path,
                    format!("{who} has a health check port {value}, outside 1-65535"),
                )
                .hint("the port the check connects to on the real server"),
            );
            None
        }),
        None if service.check_port.is_some() => service.check_port,
        None => {
            if matches!(kind, Some(CheckType::Tcp | CheckType::Http | CheckType::Https)) {
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckKey,
                        layers.member.as_ref().map_or_else(|| layers.service_path.clone(), |(_, p)| p.clone()),
                        format!("{who} forwards every port, so its {} check needs a port", type_text),
                    )
                    .hint("add \"port\": the port of the real server's application to check"),
                );
            }
            None
        }
    };

    let probe = match kind {
        Some(CheckType::Tcp) => port.map(|port| Probe::Tcp { port }),
        Some(kind @ (CheckType::Http | CheckType::Https)) => http(found, &layers, who, kind == CheckType::Https, port),
        Some(CheckType::Command) => command(found, &layers, who, port),
        Some(CheckType::None) => Some(Probe::None),
        None if type_known => Some(Probe::Ping),
        None => None,
    };
    if found.len() > before {
        return None;
    }
    let probe = probe?;
    // A server that is never checked never fails: nothing to inhibit.
    let on_failure = if probe == Probe::None { Some(OnFailure::Remove) } else { on_failure };
    Some(HealthCheck {
        probe,
        interval: interval?,
        timeout: timeout?,
        retries: retries?,
        retry_delay: retry_delay?,
        on_failure: on_failure?,
    })
}

/// The pointer to `key` where the layers write it.
fn key_path(layers: &Layers<'_>, key: &str) -> Option<String> {
    let written = |h: &raw::HealthCheck| match key {
        "type" => h.kind.is_some(),
        "port" => h.port.is_some(),
        "path" => h.path.is_some(),
        "status" => h.status.is_some(),
        "digest" => h.digest.is_some(),
        "host" => h.host.is_some(),
        "command" => h.command.is_some(),
        "interval" => h.interval.is_some(),
        "timeout" => h.timeout.is_some(),
        "retries" => h.retries.is_some(),
        "retry_delay" => h.retry_delay.is_some(),
        "on_failure" => h.on_failure.is_some(),
        _ => false,
    };
    if let Some((member, path)) = &layers.member {
        if written(member) {
            return Some(pointer(path, key));
        }
    }
    if layers.member_type() && TYPE_KEYS.contains(&key) {
        return None;
    }
    layers.service.filter(|h| written(h)).map(|_| pointer(&layers.service_path, key))
}

fn http(found: &mut Vec<Diagnostic>, layers: &Layers<'_>, who: &Who, tls: bool, port: Option<u16>) -> Option<Probe> {
    let path = match layers.get("path", |h| h.path.as_ref()) {
        Some((text, at)) => UrlPath::parse(text).or_else(|| {
            found.push(
                Diagnostic::new(Code::HealthCheckValue, at, format!("{who} has the health check path {}", quoted(text)))
                    .hint("a path starts with '/' and holds letters, digits and _./+,:=@%?~*()- (no space, quote, '#' or '!'); percent-encode the rest"),
            );
            None
        }),
        None => UrlPath::parse("/"),
    };
    let status = match layers.get("status", |h| h.status.as_ref()) {
        Some((&value, at)) => {
            let valid = u16::try_from(value).ok().filter(|s| (100..=599).contains(s));
            if valid.is_none() {
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckValue,
                        at,
                        format!("{who} expects HTTP status {value}, outside 100-599"),
                    )
                    .hint("an HTTP status code, such as 200"),
                );
            }
            Some(valid)
        }
        None => None,
    };
    let digest = match layers.get("digest", |h| h.digest.as_ref()) {
        Some((text, at)) => {
            let valid = (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| SmolStr::new(text.to_ascii_lowercase()));
            if valid.is_none() {
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckValue,
                        at,
                        format!("{who} has the health check digest {}", quoted(text)),
                    )
                    .hint("the MD5 of the page's body, 32 hex digits: genhash -s ADDRESS -p PORT -u PATH prints it"),
                );
            }
            Some(valid)
        }
        None => None,
    };
    if let (Some(_), Some((_, at))) = (&status, layers.get("digest", |h| h.digest.as_ref())) {
        found.push(
            Diagnostic::new(
                Code::HealthCheckKey,
                at,
                format!("{who}'s health check asks for both a status and a digest"),
            )
            .hint("keep one: the digest checks the body, the status the answer's code"),
        );
    }
    let host = match layers.get("host", |h| h.host.as_ref()) {
        Some((text, at)) => Some(Hostname::parse(text).or_else(|| {
            found.push(
                Diagnostic::new(
                    Code::HealthCheckValue,
                    at,
                    format!("{who} has the health check host {}", quoted(text)),
                )
                .hint("a DNS name, such as www.example.com, without a scheme or port"),
            );
            None
        })?),
        None => None,
    };
    let expect = match (status, digest) {
        (Some(status), _) => Expect::Status(status?),
        (None, Some(digest)) => Expect::Digest(digest?),
        (None, None) => Expect::Status(200),
    };
    Some(Probe::Http { tls, port: port?, path: path?, expect, host })
}

fn command(found: &mut Vec<Diagnostic>, layers: &Layers<'_>, who: &Who, port: Option<u16>) -> Option<Probe> {
    let Some((words, at)) = layers.get("command", |h| h.command.as_ref()) else {
        let path = layers.member.as_ref().map_or_else(|| layers.service_path.clone(), |(_, p)| p.clone());
        found.push(
            Diagnostic::new(Code::HealthCheckKey, path, format!("{who}'s command check has no command"))
                .hint("add \"command\": [\"/usr/local/bin/check-app\", \"{address}\", \"{port}\"]"),
        );
        return None;
    };
    let mut argv = Vec::with_capacity(words.len());
    let mut valid = !words.is_empty();
    if words.is_empty() {
        found.push(
            Diagnostic::new(Code::HealthCheckValue, at.clone(), format!("{who}'s check command is empty"))
                .hint("the program's absolute path first, then its arguments"),
        );
    }
    for (i, word) in words.iter().enumerate() {
        let parsed = CheckWord::parse(word).filter(|_| i > 0 || crate::model::ScriptPath::parse(word).is_some());
        match parsed {
            Some(word) => argv.push(word),
            None => {
                valid = false;
                let hint = if i == 0 {
                    "the program as an absolute path, such as /usr/local/bin/check-app"
                } else {
                    "letters, digits and _./+,:=@%- with {address} and {port}; no shell: put pipes and expansions in a script"
                };
                found.push(
                    Diagnostic::new(
                        Code::HealthCheckValue,
                        pointer(&at, i),
                        format!("{who}'s check command has the word {}", quoted(word)),
                    )
                    .hint(hint),
                );
            }
        }
    }
    if port.is_none() && words.iter().any(|w| w.contains("{port}")) {
        valid = false;
        found.push(
            Diagnostic::new(
                Code::HealthCheckKey,
                at,
                format!("{who}'s check command uses {{port}}, but it forwards every port"),
            )
            .hint("add the check's \"port\""),
        );
    }
    valid.then_some(Probe::Command { argv, port: port.unwrap_or(0) })
}

/// A service's sorry server: a declared real server's address in the VIP's family, not a
/// member. Returns the address and the real server it is.
pub fn sorry_server(
    found: &mut Vec<Diagnostic>,
    text: &str,
    entry: Entry,
    who: &Who,
    vip: Option<IpAddr>,
    members: &[Member],
    book: &AddressBook,
) -> Option<(IpAddr, ServerId)> {
    let path = entry.key("sorry_server");
    let problem = match super::address::parse_vip(text) {
        Err(error) => {
            found.push(error.at(path, who, text));
            return None;
        }
        Ok(address) if vip.is_some_and(|v| v.is_ipv4() != address.is_ipv4()) => {
            format!("{who}'s sorry server {address} is not in its VIP's address family")
        }
        Ok(address) => match book.hosts.get(&address) {
            Some((owner, _, owner_who)) if owner.list() == "/real_servers" => {
                if members.iter().any(|m| m.address == address) {
                    format!("{who}'s sorry server {address} ({owner_who}) is one of its own real servers")
                } else {
                    return Some((address, ServerId::at(owner.index())));
                }
            }
            Some((_, _, owner_who)) => format!("{who}'s sorry server {address} is {owner_who}'s address"),
            None => format!("{who}'s sorry server {address} is no declared real server's address"),
        },
    };
    found.push(
        Diagnostic::new(Code::SorryServerInvalid, path, problem)
            .hint("declare the sorry server under real_servers (it holds the VIP behind ARP suppression, as direct routing needs) and give its address"),
    );
    None
}

/// A service's quorum and hysteresis, and the warning when its real servers cannot meet it.
pub fn quorum(
    found: &mut Vec<Diagnostic>,
    raw: &raw::Service,
    entry: Entry,
    who: &Who,
    members: Option<&[Member]>,
) -> Option<Option<Quorum>> {
    let (Some(weight), hysteresis) = (raw.quorum, raw.hysteresis) else {
        if raw.hysteresis.is_some() {
            found.push(
                Diagnostic::new(
                    Code::QuorumInvalid,
                    entry.key("hysteresis"),
                    format!("{who} has a hysteresis but no quorum"),
                )
                .hint("add \"quorum\", the healthy weight the service needs, or remove the hysteresis"),
            );
            return None;
        }
        return Some(None);
    };
    let hysteresis = hysteresis.unwrap_or(0);
    if !(1..=QUORUM_MAX).contains(&weight) {
        found.push(
            Diagnostic::new(
                Code::QuorumInvalid,
                entry.key("quorum"),
                format!("{who} has quorum {weight}, outside 1-{QUORUM_MAX}"),
            )
            .hint("the quorum is the total weight of healthy real servers the service needs"),
        );
        return None;
    }
    if !(0..weight).contains(&hysteresis) {
        found.push(
            Diagnostic::new(
                Code::QuorumInvalid,
                entry.key("hysteresis"),
                format!("{who} has hysteresis {hysteresis}, not below its quorum {weight}"),
            )
            .hint(format!("a hysteresis from 0 to {}", weight - 1)),
        );
        return None;
    }
    if let Some(members) = members {
        let total: i64 = members.iter().map(|m| i64::from(m.weight)).sum();
        if weight > total {
            found.push(
                Diagnostic::new(
                    Code::QuorumUnreachable,
                    entry.key("quorum"),
                    format!("{who} needs a healthy weight of {weight}, but its real servers weigh {total} in all: keepalived lowers the quorum to {total}"),
                )
                .hint(format!("write the quorum you mean, {total} or less, or raise the weights")),
            );
        }
    }
    Some(Some(Quorum { weight: weight as u32, hysteresis: hysteresis as u32 }))
}
