//! `lvsdr probe`'s knowledge, without IO: what to ask on the segment for a cluster (every
//! VIP, and every host's own addresses so that an answering MAC can be named), how to
//! judge what answered, and how to say it for people, Nagios and Prometheus. The CLI
//! (`cli/probe/packets.rs`) sends the requests and listens.

use crate::contract::{ProbeHost, ProbeResponder, ProbeResult, ProbeState, ProbeVip, Role};
use crate::model::Cluster;
use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// What a probe asks for.
pub struct Plan {
    pub cluster: String,
    /// Each VIP with its services' names, in address order (IPv4 first).
    pub vips: Vec<(IpAddr, Vec<String>)>,
    /// Directors first, then real servers, in manifest order.
    pub hosts: Vec<PlanHost>,
}

pub struct PlanHost {
    pub name: String,
    pub role: Role,
    /// Its address, and its IPv6 one where it has one.
    pub addresses: Vec<IpAddr>,
}

impl Plan {
    pub fn of(cluster: &Cluster) -> Plan {
        let mut vips: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
        for service in &cluster.services {
            vips.entry(service.vip).or_default().push(service.name.to_string());
        }
        let host = |name: &str, role: Role, v4: IpAddr, v6: Option<IpAddr>| PlanHost {
            name: name.to_owned(),
            role,
            addresses: std::iter::once(v4).chain(v6).collect(),
        };
        let hosts = cluster
            .directors
            .iter()
            .map(|d| {
                host(d.name.as_str(), Role::Director, d.address.addr().into(), d.address6.map(|n| n.addr().into()))
            })
            .chain(cluster.real_servers.iter().map(|s| {
                let v6 = s.address6.map(|n| n.addr().into());
                host(s.name.as_str(), Role::RealServer, s.address.addr().into(), v6)
            }))
            .collect();
        Plan { cluster: cluster.name.to_string(), vips: vips.into_iter().collect(), hosts }
    }

    /// Every address to ask for: the VIPs, then the hosts' own.
    pub fn targets(&self) -> Vec<IpAddr> {
        let mut targets: Vec<IpAddr> = self.vips.iter().map(|(vip, _)| *vip).collect();
        targets.extend(self.hosts.iter().flat_map(|h| h.addresses.iter().copied()));
        targets
    }
}

/// What the listener saw in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// An answer for `address` from `mac`: an ARP reply, or a Neighbour Advertisement
    /// (solicited or not) whose target is `address`.
    Answer { address: IpAddr, mac: [u8; 6] },
    /// ARP or a Neighbour Solicitation sent from `mac` with `address` as the sender's own.
    Sender { address: IpAddr, mac: [u8; 6] },
}

/// `52:54:00:aa:bb:cc`.
pub(crate) fn mac_text(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// What answered, judged: see `ProbeState`.
pub fn judge(plan: &Plan, interface: &str, window_ms: u64, sent: usize, seen: &[Seen]) -> ProbeResult {
    let mut answers: HashMap<IpAddr, BTreeSet<[u8; 6]>> = HashMap::default();
    let mut senders: HashMap<IpAddr, BTreeSet<[u8; 6]>> = HashMap::default();
    for s in seen {
        let (map, address, mac) = match *s {
            Seen::Answer { address, mac } => (&mut answers, address, mac),
            Seen::Sender { address, mac } => (&mut senders, address, mac),
        };
        map.entry(address).or_default().insert(mac);
    }
    // Each host's MAC, from the answers for its own addresses.
    let mut who: HashMap<[u8; 6], (&str, Role)> = HashMap::default();
    let mut hosts = Vec::with_capacity(plan.hosts.len());
    for host in &plan.hosts {
        let mac = host.addresses.iter().find_map(|a| answers.get(a).and_then(|macs| macs.iter().next().copied()));
        if let Some(mac) = mac {
            who.entry(mac).or_insert((&host.name, host.role));
        }
        hosts.push(ProbeHost {
            name: host.name.clone(),
            role: host.role.token().to_owned(),
            addresses: host.addresses.iter().map(|a| a.to_string()).collect(),
            mac: mac.map(mac_text),
        });
    }
    let named = |mac: [u8; 6]| {
        let host = who.get(&mac);
        ProbeResponder {
            mac: mac_text(mac),
            host: host.map(|(name, _)| (*name).to_owned()),
            role: host.map(|(_, role)| role.token().to_owned()),
        }
    };
    let is_director = |mac: &[u8; 6]| who.get(mac).is_some_and(|(_, role)| *role == Role::Director);
    let mut state = ProbeState::Ok;
    let vips = plan
        .vips
        .iter()
        .map(|(vip, services)| {
            let responders: Vec<[u8; 6]> = answers.get(vip).map(|m| m.iter().copied().collect()).unwrap_or_default();
            // A responder's reply names the VIP as its sender too: said once, as an answer.
            let announcers: Vec<[u8; 6]> = senders
                .get(vip)
                .map(|m| m.iter().copied().filter(|mac| !is_director(mac) && !responders.contains(mac)).collect())
                .unwrap_or_default();
            let vip_state = if responders.len() > 1
                || !announcers.is_empty()
                || responders.iter().any(|mac| who.get(mac).is_some_and(|(_, role)| *role == Role::RealServer))
            {
                ProbeState::Leak
            } else if responders.is_empty() {
                ProbeState::Down
            } else if is_director(&responders[0]) {
                ProbeState::Ok
            } else {
                ProbeState::Unknown
            };
            state = state.max(vip_state);
            ProbeVip {
                address: vip.to_string(),
                services: services.clone(),
                state: vip_state,
                responders: responders.into_iter().map(named).collect(),
                announcers: announcers.into_iter().map(named).collect(),
            }
        })
        .collect();
    ProbeResult {
        cluster: plan.cluster.clone(),
        interface: interface.to_owned(),
        window_ms,
        sent,
        received: seen.len(),
        state,
        vips,
        hosts,
        diagnostics: Vec::new(),
    }
}

fn state_word(state: ProbeState) -> &'static str {
    match state {
        ProbeState::Ok => "ok",
        ProbeState::Unknown => "unknown",
        ProbeState::Down => "down",
        ProbeState::Leak => "leak",
    }
}

/// "real server web3 (52:54:00:…)", or the MAC alone for a MAC no host answered from.
fn describe(r: &ProbeResponder) -> String {
    let role = if from_director(r) { Role::Director } else { Role::RealServer };
    match &r.host {
        Some(name) => format!("{} ({})", role.named(name), r.mac),
        None => format!("{} (no host of the manifest)", r.mac),
    }
}

/// Whether a responder is a director of the manifest, by the role its result names.
fn from_director(r: &ProbeResponder) -> bool {
    r.role.as_deref() == Some(Role::Director.token())
}

/// What is wrong with one VIP, in a sentence; `None` when it is ok.
pub(crate) fn problem(v: &ProbeVip) -> Option<String> {
    let answered: Vec<String> = v.responders.iter().map(describe).collect();
    match v.state {
        ProbeState::Ok => None,
        ProbeState::Down => Some(format!("{}: no host answers: no director holds it", v.address)),
        ProbeState::Unknown => Some(format!("{}: answered only by {}", v.address, answered.join(", "))),
        ProbeState::Leak => {
            let mut said: Vec<String> = v
                .responders
                .iter()
                .filter(|r| v.responders.len() > 1 || !from_director(r))
                .map(|r| format!("{} answers for {}", describe(r), v.address))
                .collect();
            said.extend(v.announcers.iter().map(|r| format!("{} sends as {}", describe(r), v.address)));
            Some(said.join("; "))
        }
    }
}

/// The table for people, then a line per problem.
pub fn human(result: &ProbeResult) -> String {
    let mut rows = vec![["VIP".to_owned(), "STATE".to_owned(), "ANSWERED BY".to_owned(), "SERVICES".to_owned()]];
    for v in &result.vips {
        let by: Vec<String> = v.responders.iter().map(describe).collect();
        rows.push([
            v.address.clone(),
            state_word(v.state).to_owned(),
            if by.is_empty() { "-".to_owned() } else { by.join(", ") },
            v.services.join(", "),
        ]);
    }
    let widths: Vec<usize> = (0..3).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let mut out = format!(
        "cluster {} on {}: {} VIP(s), {} request(s) sent, {} frame(s) judged in {} ms\n",
        result.cluster,
        result.interface,
        result.vips.len(),
        result.sent,
        result.received,
        result.window_ms
    );
    for r in &rows {
        out += &format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    for v in &result.vips {
        if let Some(p) = problem(v) {
            out += &format!("{}: {p}\n", state_word(v.state).to_uppercase());
        }
    }
    out
}

/// The Nagios/Icinga plugin's exit status: 0 OK, 1 WARNING, 2 CRITICAL.
pub fn nagios_status(state: ProbeState) -> u8 {
    match state {
        ProbeState::Ok => 0,
        ProbeState::Unknown => 1,
        ProbeState::Down | ProbeState::Leak => 2,
    }
}

/// One status line with performance data, as the plugin guidelines want.
pub fn nagios(result: &ProbeResult) -> String {
    let count = |s: ProbeState| result.vips.iter().filter(|v| v.state == s).count();
    let word = ["OK", "WARNING", "CRITICAL"][usize::from(nagios_status(result.state))];
    let problems: Vec<String> = result.vips.iter().filter_map(problem).collect();
    let summary = if problems.is_empty() {
        format!("{} VIP(s) each answered by one director", result.vips.len())
    } else {
        problems.join("; ")
    };
    format!(
        "LVSDR {word} - {summary} | vips={} ok={} leak={} down={} unknown={}\n",
        result.vips.len(),
        count(ProbeState::Ok),
        count(ProbeState::Leak),
        count(ProbeState::Down),
        count(ProbeState::Unknown)
    )
}

/// A Prometheus textfile: per VIP the number of responders and whether it is ok, and one
/// leak series per host (or MAC) that leaks it.
pub fn prometheus(result: &ProbeResult) -> String {
    let c = &result.cluster;
    let mut out = String::from(
        "# HELP lvsdr_vip_responders MACs that answered a request for the VIP in the probe's window.\n\
         # TYPE lvsdr_vip_responders gauge\n",
    );
    for v in &result.vips {
        out += &format!("lvsdr_vip_responders{{cluster=\"{c}\",vip=\"{}\"}} {}\n", v.address, v.responders.len());
    }
    out += "# HELP lvsdr_vip_ok 1 when exactly one director answered for the VIP and no other host sent as it.\n\
            # TYPE lvsdr_vip_ok gauge\n";
    for v in &result.vips {
        out +=
            &format!("lvsdr_vip_ok{{cluster=\"{c}\",vip=\"{}\"}} {}\n", v.address, u8::from(v.state == ProbeState::Ok));
    }
    out += "# HELP lvsdr_vip_leak 1 for each host (or MAC) other than the one director that answered for or sent as the VIP.\n\
            # TYPE lvsdr_vip_leak gauge\n";
    for v in &result.vips {
        if v.state != ProbeState::Leak {
            continue;
        }
        let mut leakers: BTreeSet<&ProbeResponder> = v.announcers.iter().collect();
        leakers.extend(v.responders.iter().filter(|r| v.responders.len() > 1 || !from_director(r)));
        for r in leakers {
            out += &format!(
                "lvsdr_vip_leak{{cluster=\"{c}\",vip=\"{}\",host=\"{}\",mac=\"{}\"}} 1\n",
                v.address,
                r.host.as_deref().unwrap_or(""),
                r.mac
            );
        }
    }
    out
}

/// Lines for `--watch`: one per VIP whose state or responders changed since `before`.
pub fn changes(before: Option<&ProbeResult>, now: &ProbeResult) -> Vec<String> {
    let old: HashMap<&str, &ProbeVip> =
        before.map(|b| b.vips.iter().map(|v| (v.address.as_str(), v)).collect()).unwrap_or_default();
    now.vips
        .iter()
        .filter(|v| old.get(v.address.as_str()).is_none_or(|o| o.state != v.state || o.responders != v.responders))
        .map(|v| match problem(v) {
            None => format!("{} ok: {}", v.address, v.responders.iter().map(describe).collect::<Vec<_>>().join(", ")),
            Some(p) => format!("{} {}: {p}", v.address, state_word(v.state)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            cluster: "c".into(),
            vips: vec![
                ("10.0.0.100".parse().unwrap(), vec!["www".into()]),
                ("fd00::100".parse().unwrap(), vec!["www6".into()]),
            ],
            hosts: vec![
                PlanHost { name: "lvs1".into(), role: Role::Director, addresses: vec!["10.0.0.2".parse().unwrap()] },
                PlanHost { name: "web1".into(), role: Role::RealServer, addresses: vec!["10.0.0.11".parse().unwrap()] },
            ],
        }
    }

    const DIRECTOR: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const WEB1: [u8; 6] = [2, 0, 0, 0, 1, 1];

    fn answer(address: &str, mac: [u8; 6]) -> Seen {
        Seen::Answer { address: address.parse().unwrap(), mac }
    }

    #[test]
    fn one_director_is_ok_none_is_down() {
        let seen = [answer("10.0.0.2", DIRECTOR), answer("10.0.0.11", WEB1), answer("10.0.0.100", DIRECTOR)];
        let r = judge(&plan(), "eth0", 1000, 8, &seen);
        assert_eq!(r.vips[0].state, ProbeState::Ok);
        assert_eq!(r.vips[1].state, ProbeState::Down);
        assert_eq!(r.state, ProbeState::Down);
        assert_eq!(nagios_status(r.state), 2);
    }

    #[test]
    fn a_real_server_answering_is_a_leak_named() {
        let seen = [answer("10.0.0.2", DIRECTOR), answer("10.0.0.11", WEB1), answer("10.0.0.100", WEB1)];
        let r = judge(&plan(), "eth0", 1000, 8, &seen);
        assert_eq!(r.vips[0].state, ProbeState::Leak);
        assert!(problem(&r.vips[0]).unwrap().contains("real server web1 (02:00:00:00:01:01) answers for 10.0.0.100"));
        assert!(prometheus(&r)
            .contains("lvsdr_vip_leak{cluster=\"c\",vip=\"10.0.0.100\",host=\"web1\",mac=\"02:00:00:00:01:01\"} 1"));
    }

    #[test]
    fn a_sender_other_than_a_director_is_a_leak_and_an_unknown_responder_a_warning() {
        let seen = [
            answer("10.0.0.2", DIRECTOR),
            answer("10.0.0.100", DIRECTOR),
            Seen::Sender { address: "10.0.0.100".parse().unwrap(), mac: DIRECTOR },
            Seen::Sender { address: "fd00::100".parse().unwrap(), mac: WEB1 },
            answer("fd00::100", [2, 9, 9, 9, 9, 9]),
        ];
        let r = judge(&plan(), "eth0", 1000, 8, &seen);
        assert_eq!(r.vips[0].state, ProbeState::Ok, "a director's own announcement is fine");
        assert_eq!(r.vips[1].state, ProbeState::Leak);
        let only_unknown = judge(&plan(), "eth0", 1000, 8, &[answer("10.0.0.100", [2, 9, 9, 9, 9, 9])]);
        assert_eq!(only_unknown.vips[0].state, ProbeState::Unknown);
        assert!(nagios(&only_unknown).starts_with("LVSDR CRITICAL"), "the IPv6 VIP is down");
    }
}
