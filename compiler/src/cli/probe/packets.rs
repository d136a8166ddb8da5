//! `lvsdr probe`'s packets: on one interface, an ARP request (or, for IPv6, a Neighbour
//! Solicitation) for every address the plan names, a few times, then listening for a
//! bounded window; every ARP and ICMPv6 frame of that window becomes a `probe::Seen`.
//! It sends nothing else, and only to the manifest's addresses.

use lvsdr::probe::{Plan, Seen};
use pnet_datalink::{Channel, Config, DataLinkReceiver, MacAddr, NetworkInterface};
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::icmpv6::{self, Icmpv6Packet, Icmpv6Types};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::{Ipv6Packet, MutableIpv6Packet};
use pnet_packet::{MutablePacket, Packet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// How a probe runs.
pub struct Options {
    pub interface: String,
    /// Requests per address.
    pub count: u32,
    /// Listening after the last request.
    pub window: Duration,
}

/// The probe's outcome before judging: requests sent, frames seen.
pub struct Observed {
    pub sent: usize,
    pub seen: Vec<Seen>,
}

/// The interface's link-layer and network addresses.
struct Local {
    mac: MacAddr,
    ipv4: Ipv4Addr,
    /// A link-local address (the source Neighbour Discovery uses), or `::`.
    ipv6: Ipv6Addr,
}

pub fn exchange(plan: &Plan, options: &Options) -> Result<Observed, String> {
    let interface = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == options.interface)
        .ok_or_else(|| format!("no interface {} on this host", options.interface))?;
    let local = local(&interface)?;
    let config = Config { read_timeout: Some(Duration::from_millis(20)), ..Config::default() };
    let (mut tx, mut rx) = match pnet_datalink::channel(&interface, config) {
        Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
        Ok(_) => return Err(format!("{} is not an Ethernet interface", options.interface)),
        Err(e) => return Err(format!("cannot open a packet socket on {} (root is needed): {e}", options.interface)),
    };
    let targets = plan.targets();
    let mut seen = Vec::new();
    let mut sent = 0;
    for round in 0..options.count.max(1) {
        for target in &targets {
            let frame = match target {
                IpAddr::V4(ip) => arp_request(&local, *ip),
                IpAddr::V6(ip) => solicitation(&local, *ip),
            };
            match tx.send_to(&frame, None) {
                Some(Ok(())) => sent += 1,
                Some(Err(e)) => return Err(format!("cannot send on {}: {e}", options.interface)),
                None => return Err(format!("cannot send on {}", options.interface)),
            }
        }
        // Rounds 100 ms apart: a host that missed one request gets the next.
        if round + 1 < options.count {
            listen(&mut *rx, &local, Duration::from_millis(100), &mut seen);
        }
    }
    listen(&mut *rx, &local, options.window, &mut seen);
    drop(tx);
    Ok(Observed { sent, seen })
}

fn local(interface: &NetworkInterface) -> Result<Local, String> {
    let mac = interface.mac.filter(|m| !m.is_zero()).ok_or_else(|| format!("{} has no MAC address", interface.name))?;
    let ipv4 = interface
        .ips
        .iter()
        .find_map(|n| match n.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(_) => None,
        })
        // No IPv4 address: ARP probes (RFC 5227), which hosts answer as well.
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let ipv6 = interface
        .ips
        .iter()
        .find_map(|n| match n.ip() {
            IpAddr::V6(ip) if ip.segments()[0] & 0xffc0 == 0xfe80 => Some(ip),
            IpAddr::V4(_) | IpAddr::V6(_) => None,
        })
        .unwrap_or(Ipv6Addr::UNSPECIFIED);
    Ok(Local { mac, ipv4, ipv6 })
}

fn listen(rx: &mut dyn DataLinkReceiver, local: &Local, window: Duration, seen: &mut Vec<Seen>) {
    let end = Instant::now() + window;
    while Instant::now() < end {
        // A timeout (or a transient error) only ends this read.
        if let Ok(frame) = rx.next() {
            judge_frame(frame, local, seen);
        }
    }
}

/// An Ethernet frame's ARP or Neighbour Discovery content, as `Seen`; anything else, and
/// this host's own frames, are ignored.
fn judge_frame(frame: &[u8], local: &Local, seen: &mut Vec<Seen>) {
    let Some(ethernet) = EthernetPacket::new(frame) else { return };
    let mac = ethernet.get_source();
    if mac == local.mac {
        return;
    }
    let mac6 = mac.octets();
    match ethernet.get_ethertype() {
        EtherTypes::Arp => {
            let Some(arp) = ArpPacket::new(ethernet.payload()) else { return };
            let sender = arp.get_sender_proto_addr();
            if arp.get_operation() == ArpOperations::Reply {
                seen.push(Seen::Answer { address: sender.into(), mac: mac6 });
            }
            if !sender.is_unspecified() {
                seen.push(Seen::Sender { address: sender.into(), mac: mac6 });
            }
        }
        EtherTypes::Ipv6 => {
            let Some(ip) = Ipv6Packet::new(ethernet.payload()) else { return };
            if ip.get_next_header() != IpNextHeaderProtocols::Icmpv6 {
                return;
            }
            let Some(icmp) = Icmpv6Packet::new(ip.payload()) else { return };
            // The target address: the 16 bytes after the type, code, checksum and flags.
            let Some(target) = ip.payload().get(8..24).and_then(|b| <[u8; 16]>::try_from(b).ok()) else { return };
            let target = IpAddr::V6(Ipv6Addr::from(target));
            match icmp.get_icmpv6_type() {
                Icmpv6Types::NeighborAdvert => seen.push(Seen::Answer { address: target, mac: mac6 }),
                Icmpv6Types::NeighborSolicit if !ip.get_source().is_unspecified() => {
                    seen.push(Seen::Sender { address: ip.get_source().into(), mac: mac6 });
                }
                Icmpv6Types::NeighborSolicit => {
                    // Duplicate address detection: the sender claims the target.
                    seen.push(Seen::Sender { address: target, mac: mac6 });
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// A broadcast ARP request for `target`.
fn arp_request(local: &Local, target: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0u8; 42];
    let mut ethernet = MutableEthernetPacket::new(&mut frame).expect("42 bytes hold an ARP frame");
    ethernet.set_destination(MacAddr::broadcast());
    ethernet.set_source(local.mac);
    ethernet.set_ethertype(EtherTypes::Arp);
    let mut arp = MutableArpPacket::new(ethernet.payload_mut()).expect("28 bytes hold an ARP packet");
    arp.set_hardware_type(ArpHardwareTypes::Ethernet);
    arp.set_protocol_type(EtherTypes::Ipv4);
    arp.set_hw_addr_len(6);
    arp.set_proto_addr_len(4);
    arp.set_operation(ArpOperations::Request);
    arp.set_sender_hw_addr(local.mac);
    arp.set_sender_proto_addr(local.ipv4);
    arp.set_target_hw_addr(MacAddr::zero());
    arp.set_target_proto_addr(target);
    frame
}

/// A Neighbour Solicitation for `target` to its solicited-node group, with this host's
/// link-layer address as an option (none from `::`, as RFC 4861 requires).
fn solicitation(local: &Local, target: Ipv6Addr) -> Vec<u8> {
    let t = target.octets();
    let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(t[13]), u16::from_be_bytes([t[14], t[15]]));
    let mut icmp = vec![135u8, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&t);
    if !local.ipv6.is_unspecified() {
        icmp.extend_from_slice(&[1, 1]);
        icmp.extend_from_slice(&local.mac.octets());
    }
    let checksum = icmpv6::checksum(&Icmpv6Packet::new(&icmp).expect("a whole message"), &local.ipv6, &group);
    icmp[2..4].copy_from_slice(&checksum.to_be_bytes());
    let mut frame = vec![0u8; 14 + 40 + icmp.len()];
    let mut ethernet = MutableEthernetPacket::new(&mut frame).expect("sized for the message");
    let g = group.octets();
    ethernet.set_destination(MacAddr::new(0x33, 0x33, g[12], g[13], g[14], g[15]));
    ethernet.set_source(local.mac);
    ethernet.set_ethertype(EtherTypes::Ipv6);
    let mut ip = MutableIpv6Packet::new(ethernet.payload_mut()).expect("sized for the message");
    ip.set_version(6);
    ip.set_payload_length(icmp.len() as u16);
    ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
    ip.set_hop_limit(255);
    ip.set_source(local.ipv6);
    ip.set_destination(group);
    ip.set_payload(&icmp);
    frame
}
