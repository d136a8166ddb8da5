//! Where a value sits in the manifest, and whose it is, held as positions and names: the
//! JSON pointer and the message's "real server web1" are built only for a diagnostic
//! (lowering runs once per host and per service, tens of thousands of times).

use crate::contract::Role;
use crate::diag::pointer;
use smol_str::SmolStr;
use std::fmt;

/// An entry of one of the manifest's lists: `/real_servers/7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    list: &'static str,
    index: usize,
}

impl Entry {
    pub fn new(list: &'static str, index: usize) -> Self {
        Entry { list, index }
    }

    /// The list it is in, `/real_servers`.
    pub fn list(self) -> &'static str {
        self.list
    }

    /// Its position in the list.
    pub fn index(self) -> usize {
        self.index
    }

    /// The entry's pointer, `/real_servers/7`.
    pub fn path(self) -> String {
        pointer(self.list, self.index)
    }

    /// The pointer to one of its keys, `/real_servers/7/address`.
    pub fn key(self, key: &str) -> String {
        pointer(&self.path(), key)
    }

    /// One of its keys, as a place to report at.
    pub fn at(self, key: &'static str) -> At {
        At::Key(self, key)
    }
}

/// A value of the manifest: a top-level key (`/cluster`) or a key of a list entry.
#[derive(Clone, Copy, Debug)]
pub enum At {
    Top(&'static str),
    Key(Entry, &'static str),
}

impl At {
    pub fn path(self) -> String {
        match self {
            At::Top(path) => path.to_owned(),
            At::Key(entry, key) => entry.key(key),
        }
    }
}

/// What a named entry of the manifest is: a host, by its role, or a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Host(Role),
    Service,
}

impl What {
    /// "director", "real server" (the role's own words), "service".
    pub fn as_str(self) -> &'static str {
        match self {
            What::Host(role) => role.as_str(),
            What::Service => "service",
        }
    }
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a message speaks of: "real server web1", "service www".
#[derive(Clone, Debug)]
pub struct Who {
    what: What,
    name: SmolStr,
}

impl Who {
    pub fn new(what: What, name: &SmolStr) -> Self {
        Who { what, name: name.clone() }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.what, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_built_as_written() {
        let entry = Entry::new("/real_servers", 7);
        assert_eq!(entry.path(), "/real_servers/7");
        assert_eq!(entry.key("address"), "/real_servers/7/address");
        assert_eq!(entry.at("name").path(), "/real_servers/7/name");
        assert_eq!(At::Top("/cluster").path(), "/cluster");
        assert_eq!(Who::new(What::Host(Role::RealServer), &"web1".into()).to_string(), "real server web1");
        assert_eq!(Who::new(What::Service, &"www".into()).to_string(), "service www");
    }
}
