//! The typed positions lowering's passes hand each other instead of tuples of numbers.
//!
//! Lowering keeps positions rather than names or maps between passes: a large cluster has
//! hundreds of thousands of memberships, and a `u32` index into a list in manifest order is
//! both the smallest key and the one a counting sort can place (`vips`).

use std::net::IpAddr;

/// A declared real server: its position in the manifest's `real_servers`, from 0.
///
/// Invariant: it indexes every list lowering keeps per declared real server in manifest
/// order — the raw servers, `Lowered<RealServer>`, `Listed` — and nothing else (not the
/// sorted `Cluster::real_servers`). A name declared twice has two ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(u32);

impl ServerId {
    /// The id of the declaration at `position` in `real_servers`.
    pub fn at(position: usize) -> ServerId {
        ServerId(u32::try_from(position).expect("fewer than 2^32 real servers fit in a manifest"))
    }

    /// Its position in the manifest's `real_servers`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A declared service: its position in the manifest's `services`, from 0.
///
/// Invariant: it indexes the raw services and `Lowered<Service>`, which the services pass
/// builds one entry per raw service, in the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(u32);

impl ServiceId {
    /// The id of the service at `position` in `services`.
    pub fn at(position: usize) -> ServiceId {
        ServiceId(u32::try_from(position).expect("fewer than 2^32 services fit in a manifest"))
    }

    /// Its position in the manifest's `services`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A real server that holds a service's VIP: a member's server, or the service's sorry
/// server (it answers from the VIP too).
///
/// Invariant: made only for a service that lowered, so `service` is `Some` in
/// `Lowered<Service>` and `vip` is that service's VIP; `holder` is a declaration that
/// lowered (for a member, the first such declaration of its name).
#[derive(Clone, Copy, Debug)]
pub struct Membership {
    pub holder: ServerId,
    pub vip: IpAddr,
    pub service: ServiceId,
}

/// Per declared real server (by `ServerId`), whether some service names it — as a member,
/// whether the service or the member lowered or not, or as its sorry server — for the
/// unused-server warning (W0002). A server without VIPs that is listed has had its
/// error reported where it is listed; one that is not listed is unused.
///
/// Invariant: one bit per declaration, in manifest order; a member's name marks every
/// declaration of that name, a sorry server only the declaration whose address it gives.
pub struct Listed(Vec<bool>);

impl Listed {
    /// Whether some service names the server `id`.
    pub fn contains(&self, id: ServerId) -> bool {
        self.0[id.index()]
    }

    /// Notes that a service names the server `id`.
    pub fn insert(&mut self, id: ServerId) {
        self.0[id.index()] = true;
    }
}

/// From one bit per declared real server, in manifest order.
impl FromIterator<bool> for Listed {
    fn from_iter<I: IntoIterator<Item = bool>>(bits: I) -> Listed {
        Listed(bits.into_iter().collect())
    }
}
