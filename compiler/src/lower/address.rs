//! Address syntax: a host's `a.b.c.d/len` and IPv6 `address6`, a bare VIP of either
//! family, and which addresses are special.
//! Pure functions; the passes place their errors in the manifest.

use crate::codes::Code;
use crate::diag::Diagnostic;
use crate::model::limits::{PREFIX6_MAX, PREFIX6_MIN, PREFIX_MAX, PREFIX_MIN};
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address problem before we know where it is; `at` places it.
#[derive(Debug)]
pub struct AddressError {
    pub code: Code,
    problem: String,
    hint: String,
}

impl AddressError {
    fn new(code: Code, problem: impl Into<String>, hint: impl Into<String>) -> Self {
        AddressError { code, problem: problem.into(), hint: hint.into() }
    }

    /// The diagnostic for `who`'s value `text` at `path`.
    pub fn at(self, path: String, who: &impl std::fmt::Display, text: &str) -> Diagnostic {
        Diagnostic::new(self.code, path, format!("{who}: {} {}", self.problem, super::quoted(text))).hint(self.hint)
    }
}

/// `address` is IPv4 only: an IPv6 address there belongs in `address6`.
fn ipv6_check(text: &str) -> Result<(), AddressError> {
    // Every IPv6 address has a colon: IPv4 text is not parsed twice.
    if text.as_bytes().contains(&b':')
        && text.split('/').next().unwrap_or(text).parse::<IpAddr>().is_ok_and(|a| a.is_ipv6())
    {
        return Err(AddressError::new(
            Code::Ipv6NotSupported,
            "\"address\" is the host's IPv4 address, and this is IPv6:",
            format!(
                "write the IPv6 address as \"address6\": \"{}\", and the host's IPv4 address as \"address\"",
                text.trim()
            ),
        ));
    }
    Ok(())
}

/// `a.b.c.d/len` with len 8–32.
pub fn parse_host(text: &str) -> Result<Ipv4Net, AddressError> {
    ipv6_check(text)?;
    // By byte: str's pattern search costs more than the scan over a dozen bytes.
    let Some((addr, prefix)) = text.bytes().position(|b| b == b'/').map(|i| (&text[..i], &text[i + 1..])) else {
        return Err(AddressError::new(
            Code::InvalidAddress,
            "the address has no prefix length:",
            format!("write the real IP with its subnet's prefix, e.g. \"{}/24\"", text.trim()),
        ));
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| {
        AddressError::new(
            Code::InvalidAddress,
            "invalid IPv4 address",
            "write a dotted quad with its prefix, e.g. \"10.0.0.11/24\" (no leading zeros, no host names)",
        )
    })?;
    let prefix = prefix_len(prefix, PREFIX_MIN..=PREFIX_MAX, "the prefix length", "subnet", 24)?;
    Ok(Ipv4Net::new(addr, prefix).expect("prefix checked to be at most 32"))
}

/// A bare `a.b.c.d`, or a bare IPv6 address.
pub fn parse_vip(text: &str) -> Result<IpAddr, AddressError> {
    if let Some((addr, _)) = text.split_once('/') {
        return Err(AddressError::new(
            Code::InvalidAddress,
            "a VIP is a single address, without prefix:",
            format!("write \"{addr}\": lvsdr adds it to the real servers as a host address (/32, /128)"),
        ));
    }
    if text.as_bytes().contains(&b':') {
        return text.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| {
            AddressError::new(
                Code::InvalidAddress,
                "invalid IPv6 address",
                "write an IPv6 address as RFC 4291 spells it, e.g. \"2001:db8:10::100\" (no zone, no brackets)",
            )
        });
    }
    text.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| {
        AddressError::new(
            Code::InvalidAddress,
            "invalid IPv4 address",
            "write a dotted quad, e.g. \"10.0.0.100\" (no leading zeros, no host names), or an IPv6 address",
        )
    })
}

/// An `address6`: IPv6 with a prefix of 16–128 bits.
pub fn parse_host6(text: &str) -> Result<Ipv6Net, AddressError> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(AddressError::new(
            Code::InvalidAddress,
            "the IPv6 address has no prefix length:",
            format!("write the address with its segment's prefix, e.g. \"{}/64\"", text.trim()),
        ));
    };
    let addr: Ipv6Addr = addr.parse().map_err(|_| {
        AddressError::new(
            Code::InvalidAddress,
            "invalid IPv6 address",
            "write the host's IPv6 address with its prefix, e.g. \"2001:db8:10::11/64\" (\"address\" holds the IPv4 one)",
        )
    })?;
    let prefix = prefix_len(prefix, PREFIX6_MIN..=PREFIX6_MAX, "an IPv6 prefix length", "IPv6 segment", 64)?;
    Ok(Ipv6Net::new(addr, prefix).expect("prefix checked to be at most 128"))
}

/// A prefix length of digits only, within `range`; `what` and `segment` name it in the
/// messages, `usual` is the example.
fn prefix_len(
    text: &str,
    range: std::ops::RangeInclusive<u8>,
    what: &str,
    segment: &str,
    usual: u8,
) -> Result<u8, AddressError> {
    let prefix: u8 = match text.parse() {
        Ok(p) if text.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => {
            return Err(AddressError::new(
                Code::InvalidAddress,
                "invalid prefix length in",
                format!("the prefix is a number of bits, e.g. /{usual}"),
            ))
        }
    };
    if !range.contains(&prefix) {
        return Err(AddressError::new(
            Code::PrefixOutOfRange,
            format!("{what} must be between {} and {} in", range.start(), range.end()),
            format!("write the prefix of the host's {segment}, e.g. /{usual}"),
        ));
    }
    Ok(prefix)
}

/// The kind of special-purpose address `ip` is, of either family.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => special_purpose(ip),
        IpAddr::V6(ip) => special_purpose6(ip),
    }
}

/// The kind of special-purpose IPv6 address `ip` is, if it is one: what no host or VIP
/// on a segment can be.
pub fn special_purpose6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.to_ipv4_mapped().is_some() {
        Some("IPv4-mapped")
    } else if ip.segments()[..6] == [0; 6] {
        // ::/96, deprecated (RFC 4291 2.5.5.1); ip and nft print these as ::a.b.c.d.
        Some("IPv4-compatible")
    } else {
        None
    }
}

/// The kind of special-purpose address `ip` is, if it is one.
pub fn special_purpose(ip: Ipv4Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_broadcast() {
        Some("limited broadcast")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.octets()[0] >= 240 {
        Some("reserved (240.0.0.0/4)")
    } else if ip.octets()[0] == 0 {
        Some("'this network' (0.0.0.0/8)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_need_a_prefix_in_range() {
        assert_eq!(parse_host("10.0.0.11/24").unwrap().to_string(), "10.0.0.11/24");
        assert_eq!(parse_host("10.0.0.11").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_host("10.0.0.11/+24").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_host("10.0.0.11/7").unwrap_err().code, Code::PrefixOutOfRange);
        assert_eq!(parse_host("10.0.0.011/24").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_host("2001:db8::1/64").unwrap_err().code, Code::Ipv6NotSupported);
        assert_eq!(parse_host6("2001:db8::11/64").unwrap().to_string(), "2001:db8::11/64");
        assert_eq!(parse_host6("2001:db8::11").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_host6("10.0.0.11/24").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_host6("2001:db8::11/8").unwrap_err().code, Code::PrefixOutOfRange);
        assert_eq!(parse_host6("2001:db8::11/129").unwrap_err().code, Code::PrefixOutOfRange);
    }

    #[test]
    fn vips_are_bare_addresses() {
        assert_eq!(parse_vip("10.0.0.100").unwrap(), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)));
        assert_eq!(parse_vip("2001:db8::100").unwrap(), "2001:db8::100".parse::<IpAddr>().unwrap());
        assert_eq!(parse_vip("2001:db8::100/128").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_vip("2001:db8::g").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_vip("10.0.0.100/32").unwrap_err().code, Code::InvalidAddress);
        assert_eq!(parse_vip("web").unwrap_err().code, Code::InvalidAddress);
    }

    #[test]
    fn special_addresses_are_named() {
        let kind = |s: &str| special_purpose(s.parse().unwrap());
        assert_eq!(kind("0.0.0.0"), Some("unspecified"));
        assert_eq!(kind("255.255.255.255"), Some("limited broadcast"));
        assert_eq!(kind("127.0.0.10"), Some("loopback"));
        assert_eq!(kind("224.0.0.5"), Some("multicast"));
        assert_eq!(kind("169.254.1.1"), Some("link-local"));
        assert_eq!(kind("240.0.0.1"), Some("reserved (240.0.0.0/4)"));
        assert_eq!(kind("0.1.2.3"), Some("'this network' (0.0.0.0/8)"));
        assert_eq!(kind("10.0.0.100"), None);
        let kind6 = |s: &str| special_purpose6(s.parse().unwrap());
        assert_eq!(kind6("::"), Some("unspecified"));
        assert_eq!(kind6("::1"), Some("loopback"));
        assert_eq!(kind6("ff02::1"), Some("multicast"));
        assert_eq!(kind6("fe80::1"), Some("link-local"));
        assert_eq!(kind6("::ffff:10.0.0.1"), Some("IPv4-mapped"));
        assert_eq!(kind6("::a00:64"), Some("IPv4-compatible"));
        assert_eq!(kind6("::5"), Some("IPv4-compatible"));
        assert_eq!(kind6("2001:db8::100"), None);
        assert_eq!(kind6("fd00::100"), None);
    }
}
