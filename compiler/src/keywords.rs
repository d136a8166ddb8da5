//! The manifest's keywords: every closed set of words it accepts (protocols, schedulers,
//! suppression tools and dialects, failover families), parsed and listed alike. Platforms
//! are declared with their rows in `platform`, through the same macro.

use std::fmt;

macro_rules! keyword_enum {
    ($(#[$doc:meta])* $name:ident { $( $variant:ident = $text:literal ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl Keyword for $name {
            fn parse(text: &str) -> Option<$name> {
                $name::parse(text)
            }

            fn names() -> Vec<&'static str> {
                $name::names()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use keyword_enum;

/// A manifest keyword (`platform`, `protocol`, ...): parsed from its text, listed in hints.
pub trait Keyword: Sized {
    fn parse(text: &str) -> Option<Self>;
    fn names() -> Vec<&'static str>;
}

keyword_enum!(
    /// The transport protocol of a virtual service.
    Protocol { Tcp = "tcp", Udp = "udp" }
);

keyword_enum!(
    /// The IPVS scheduler of a virtual service.
    Scheduler {
        Rr = "rr", Wrr = "wrr", Lc = "lc", Wlc = "wlc", Lblc = "lblc",
        Lblcr = "lblcr", Dh = "dh", Sh = "sh", Sed = "sed", Nq = "nq",
    }
);

keyword_enum!(
    /// What the manifest asks for in `arp_suppression`: netfilter rules (arptables,
    /// nftables) or the kernel's own switches with the VIPs on `lo` (sysctl).
    SuppressionTool { Arptables = "arptables", Nftables = "nftables", Sysctl = "sysctl" }
);

keyword_enum!(
    /// The ARP suppression dialect a server gets: the tool and its platform together.
    Suppression { ArptablesJf = "arptables_jf", Arptables = "arptables", Nftables = "nftables", Sysctl = "sysctl" }
);

keyword_enum!(
    /// What moves the VIPs between directors and programs IPVS: Piranha's pulse (el4–el6)
    /// or keepalived (el7+).
    Failover { Piranha = "piranha", Keepalived = "keepalived" }
);

keyword_enum!(
    /// What configures a real server's interfaces at boot: NetworkManager (el7+'s default)
    /// or the initscripts network service (ifcfg files, `ifup`).
    NetworkStack { NetworkManager = "networkmanager", Initscripts = "initscripts" }
);

keyword_enum!(
    /// How a director checks a real server (`health_check.type`).
    CheckType { Tcp = "tcp", Http = "http", Https = "https", Command = "command", None = "none" }
);

keyword_enum!(
    /// What a director does with a real server that fails its check.
    OnFailure { Remove = "remove", Inhibit = "inhibit" }
);

keyword_enum!(
    /// The firewall a director runs, which must let VRRP and the services' ports in.
    Firewall { Firewalld = "firewalld", None = "none" }
);

impl Suppression {
    /// The tool a dialect belongs to, as the manifest's `arp_suppression` names it.
    pub fn tool(self) -> SuppressionTool {
        match self {
            Suppression::ArptablesJf | Suppression::Arptables => SuppressionTool::Arptables,
            Suppression::Nftables => SuppressionTool::Nftables,
            Suppression::Sysctl => SuppressionTool::Sysctl,
        }
    }
}
