//! Manifests from arbitrary bytes, for the property test and the fuzz target: mostly
//! well-formed clusters, with names, addresses and numbers drawn from pools that mix
//! good values with hostile ones (shell metacharacters, path escapes, look-alikes,
//! control characters, out-of-range numbers), and now and then a structural mutation
//! or a raw byte flip, so every stage sees both valid and invalid input.

use arbitrary::{Result, Unstructured};
use serde_json::{json, Map, Value};

/// A pool of values: the good ones, then the hostile ones.
use lvsdr::testing::{Platform, SuppressionTool};

pub struct Pool(pub &'static [&'static str], pub &'static [&'static str]);

const NAMES: Pool = Pool(
    &["web1", "web2", "app-3", "lvs1", "lvs2", "db", "a", "x9", "0day"],
    &[
        "$(reboot)",
        "`id`",
        "../etc",
        "a/b",
        "web\u{0430}",
        "web 1",
        "-rf",
        "WEB1",
        "",
        "web1;ls",
        "web\n1",
        "\u{202e}web",
        "web\u{0}",
        "..",
        ".",
    ],
);
const INTERFACES: Pool = Pool(
    &["eth0", "eth1", "ens192", "bond0.100", "eno1", "e"],
    &["eth0;id", "../x", "-n", "a b", "eth\u{3bf}", "verylonginterface0", "eth0:1"],
);
// The good values are the keyword lists themselves, so a new platform or dialect is
// generated from the day it exists; the bad ones are words no release or tool will be (a
// test holds them to that).
pub static PLATFORMS: std::sync::LazyLock<Pool> =
    std::sync::LazyLock::new(|| Pool(Platform::names().leak(), &["el", "EL7", "centos7", ""]));
const PROTOCOLS: Pool = Pool(&["tcp", "udp"], &["sctp", "TCP"]);
const SCHEDULERS: Pool = Pool(&["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq"], &["mh", "fifo"]);
pub static SUPPRESSION: std::sync::LazyLock<Pool> =
    std::sync::LazyLock::new(|| Pool(SuppressionTool::names().leak(), &["iptables", "arptables_jf"]));
const KEYS: &[&str] = &["name", "address", "vip", "port", "weight", "server", "real_servers", "colour"];

fn pick(u: &mut Unstructured, hostile: bool, pool: &Pool) -> Result<&'static str> {
    let list = if hostile && u.ratio(1, 4)? { pool.1 } else { pool.0 };
    Ok(list[u.choose_index(list.len())?])
}

fn pick_key(u: &mut Unstructured) -> Result<&'static str> {
    Ok(KEYS[u.choose_index(KEYS.len())?])
}

/// An address on the common segment 10.0.0.0/24 most of the time, elsewhere or broken otherwise.
fn address(u: &mut Unstructured, hostile: bool, with_prefix: bool) -> Result<String> {
    let host = u.int_in_range(0..=255u8)?;
    let text = match if hostile { u.int_in_range(0..=9u8)? } else { 9 } {
        0 => format!("192.168.{}.{host}", u.int_in_range(0..=3u8)?),
        1 => format!("10.0.0.{}", u.int_in_range(250..=300u16)?),
        2 => {
            let special = ["0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "fe80::1", "10.0.0", "x"];
            special[u.choose_index(special.len())?].to_owned()
        }
        _ => format!("10.0.0.{host}"),
    };
    Ok(if with_prefix {
        let prefix = if hostile && u.ratio(1, 8)? { u.int_in_range(0..=40u8)? } else { 24 };
        format!("{text}/{prefix}")
    } else {
        text
    })
}

fn number(u: &mut Unstructured, hostile: bool, usual: &[i64]) -> Result<Value> {
    Ok(match if hostile { u.int_in_range(0..=9u8)? } else { 9 } {
        0 => json!(u.arbitrary::<i64>()?),
        1 => json!(u.arbitrary::<u64>()?),
        2 => json!(-1),
        _ => json!(usual[u.choose_index(usual.len())?]),
    })
}

fn host(u: &mut Unstructured, hostile: bool, names: &mut Vec<String>, director: bool) -> Result<Value> {
    // Good hosts get unique names and addresses: lvs<n> from .2, rs<n> from .10.
    let (name, address) = if hostile && u.ratio(1, 2)? {
        (pick(u, hostile, &NAMES)?.to_owned(), address(u, hostile, true)?)
    } else if director {
        (format!("lvs{}", names.len() + 1), format!("10.0.0.{}/24", names.len() + 2))
    } else {
        (format!("rs{}", names.len() + 1), format!("10.0.0.{}/24", names.len() + 10))
    };
    names.push(name.clone());
    let mut host = json!({ "name": name, "address": address });
    // An IPv6 address beside most hosts' IPv4 one: on the segment's prefix fd00::/64, or
    // (hostile) anything from an IPv4 text to a link-local one.
    if u.ratio(2, 3)? {
        host["address6"] = if hostile && u.ratio(1, 3)? {
            ["10.0.0.5/24", "fe80::5/64", "fd00::5", "fd00::5/8", "fd01::5/64", "::ffff:10.0.0.5/120"]
                [u.choose_index(6)?]
            .into()
        } else {
            format!("fd00::{:x}/64", names.len() + if director { 1 } else { 9 }).into()
        };
    }
    if u.ratio(1, 3)? {
        host["interface"] = pick(u, hostile, &INTERFACES)?.into();
    }
    if director && !hostile {
        // Directors of one cluster share a failover family (E0033 otherwise).
        if u.ratio(1, 2)? {
            host["platform"] = "el7".into();
        }
    } else if u.ratio(2, 3)? {
        host["platform"] = pick(u, hostile, &PLATFORMS)?.into();
    }
    let old = matches!(host["platform"].as_str(), Some("el4" | "el5" | "el6"));
    if !director && u.ratio(1, 4)? && (hostile || !old) {
        host["arp_suppression"] = pick(u, hostile, &SUPPRESSION)?.into();
    }
    Ok(host)
}

/// A manifest as JSON text (or, rarely, bytes that are not quite JSON).
pub fn manifest(u: &mut Unstructured) -> Result<Vec<u8>> {
    // Half the manifests draw from the good values only (so valid clusters are common);
    // the other half take a hostile value one time in four, and may be mutated.
    let hostile: bool = u.arbitrary()?;
    let mut server_names = Vec::new();
    let mut director_names = Vec::new();
    let directors = (0..u.int_in_range(if hostile { 0 } else { 1 }..=3u8)?)
        .map(|_| host(u, hostile, &mut director_names, true))
        .collect::<Result<Vec<_>>>()?;
    let servers = (0..u.int_in_range(0..=5u8)?)
        .map(|_| host(u, hostile, &mut server_names, false))
        .collect::<Result<Vec<_>>>()?;
    let mut services = Vec::new();
    for _ in 0..u.int_in_range(0..=4u8)? {
        let mut members = Vec::new();
        let mut unused = server_names.clone();
        for _ in 0..u.int_in_range(0..=4u8)? {
            // Good members are distinct declared servers; hostile ones may repeat or be undeclared.
            let server = if hostile && (unused.is_empty() || u.ratio(1, 4)?) {
                pick(u, hostile, &NAMES)?.to_owned()
            } else if unused.is_empty() {
                break;
            } else {
                unused.swap_remove(u.choose_index(unused.len())?)
            };
            let mut member = json!({ "server": server });
            if u.ratio(1, 2)? {
                member["weight"] = number(u, hostile, &[0, 1, 2, 5, 65535])?;
            }
            members.push(member);
        }
        let name = if hostile { pick(u, hostile, &NAMES)?.to_owned() } else { format!("svc{}", services.len() + 1) };
        let mut service = json!({
            "name": name,
            "vip": match u.int_in_range(0..=7u8)? {
                0..=4 => format!("10.0.0.{}", u.int_in_range(100..=104u8)?),
                5 | 6 => format!("fd00::{:x}", u.int_in_range(0x100..=0x104u16)?),
                _ => address(u, hostile, false)?,
            },
            "port": number(u, hostile, if hostile { &[0, 21, 53, 80, 443, 65535, 65536] } else { &[0, 21, 53, 80, 443, 65535] })?,
            "real_servers": members,
        });
        if u.ratio(1, 2)? {
            service["protocol"] = pick(u, hostile, &PROTOCOLS)?.into();
        }
        if u.ratio(1, 2)? {
            service["scheduler"] = pick(u, hostile, &SCHEDULERS)?.into();
        }
        if u.ratio(1, 2)? || service["port"] == 0 {
            service["persistence"] =
                number(u, hostile, if hostile { &[1, 300, 2678400, 2678401, 0] } else { &[1, 300, 2678400] })?;
        }
        services.push(service);
    }
    let mut manifest = json!({
        "version": if u.ratio(15, 16)? { json!(1) } else { number(u, hostile, &[0, 2])? },
        "cluster": pick(u, hostile, &NAMES)?,
        "directors": directors,
        "services": services,
        "real_servers": servers,
    });
    if hostile && u.ratio(1, 4)? {
        manifest["defaults"] =
            json!({ "platform": pick(u, hostile, &PLATFORMS)?, "interface": pick(u, hostile, &INTERFACES)? });
    }
    if u.ratio(1, 6)? {
        manifest["vrrp_router_id"] = number(u, hostile, &[1, 51, 255, 256, 0])?;
    }
    if hostile && u.ratio(1, 3)? {
        mutate(u, &mut manifest)?;
    }
    let mut text = serde_json::to_vec_pretty(&manifest).expect("a JSON value serializes");
    if hostile && u.ratio(1, 10)? && !text.is_empty() {
        let at = u.choose_index(text.len())?;
        text[at] = u.arbitrary()?;
    }
    Ok(text)
}

/// One structural change somewhere in the document: a key dropped, added or retyped.
fn mutate(u: &mut Unstructured, value: &mut Value) -> Result<()> {
    match value {
        Value::Object(map) if !map.is_empty() && u.ratio(1, 2)? => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[u.choose_index(keys.len())?];
            mutate(u, map.get_mut(key).expect("the key is there"))
        }
        Value::Array(items) if !items.is_empty() && u.ratio(2, 3)? => {
            let at = u.choose_index(items.len())?;
            mutate(u, &mut items[at])
        }
        Value::Object(map) => {
            match u.int_in_range(0..=2u8)? {
                0 => {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    if !keys.is_empty() {
                        map.remove(&keys[u.choose_index(keys.len())?]);
                    }
                }
                1 => {
                    map.insert(pick_key(u)?.to_owned(), json!(null));
                }
                _ => *value = Value::Array(vec![]),
            }
            Ok(())
        }
        other => {
            *other = match u.int_in_range(0..=3u8)? {
                0 => json!(null),
                1 => json!("80"),
                2 => json!(1.5),
                _ => Value::Object(Map::new()),
            };
            Ok(())
        }
    }
}
