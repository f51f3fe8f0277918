//! Networks in CIDR notation: the proxies Stook trusts, and the networks a credential may
//! be used from. Parsed and matched the same way in the browser (the form) and on the
//! server (the S3 endpoint).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`); a bare address is one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("“{text}” is not a network: write it like 10.0.0.0/8 or fd00::/8."))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("“{text}” has a prefix length that is not 0 to {bits}."))?,
        };
        // An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network it maps.
        if let IpAddr::V6(v6) = network
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            return Ok(Cidr {
                network: IpAddr::V4(v4),
                prefix: prefix - 96,
            });
        }
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A credential's allowed networks: empty means anywhere. Held parsed, so the S3
/// endpoint matches an address without parsing text on each request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkList(Vec<Cidr>);

impl NetworkList {
    /// At most this many networks per key.
    pub const MAX: usize = 32;

    /// Reads networks separated by commas, spaces or new lines; each is checked, and the
    /// list is kept in its canonical form (`10.0.0.0/8`, `2001:db8::/32`).
    pub fn parse(text: &str) -> Result<NetworkList, String> {
        let mut networks: Vec<Cidr> = Vec::new();
        for word in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let cidr: Cidr = word.parse()?;
            if !networks.contains(&cidr) {
                networks.push(cidr);
            }
        }
        if networks.len() > Self::MAX {
            return Err(format!("A key takes at most {} networks.", Self::MAX));
        }
        Ok(NetworkList(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each network in its canonical form.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(Cidr::to_string).collect()
    }

    /// Whether `ip` may use the key: anywhere when the list is empty.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.0.is_empty() || self.0.iter().any(|n| n.contains(ip))
    }

    /// The stored form: comma-separated, or `None` for anywhere.
    pub fn to_storage(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.names().join(","))
    }
}

impl fmt::Display for NetworkList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn v4_networks() {
        let net = cidr("10.1.0.0/16");
        assert!(net.contains(ip("10.1.255.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("198.51.100.9")));
        assert!(cidr("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!cidr("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(!net.contains(ip("::1")), "an IPv6 address is in no IPv4 network");
    }

    #[test]
    fn v6_networks() {
        let net = cidr("fd00:1::/32");
        assert!(net.contains(ip("fd00:1:ffff::1")));
        assert!(!net.contains(ip("fd00:2::1")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
        assert!(cidr("::1").contains(ip("::1")));
        assert!(!cidr("::1").contains(ip("::2")));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        assert!(cidr("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert_eq!(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
        assert!(cidr("::ffff:10.0.0.0/104").contains(ip("10.9.8.7")));
    }

    #[test]
    fn network_lists_parse_canonically_and_match() {
        let list = NetworkList::parse(" 10.0.0.0/8,\n2001:db8::/32  192.0.2.7 10.0.0.0/8").unwrap();
        assert_eq!(list.names(), ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]);
        assert_eq!(
            list.to_storage().as_deref(),
            Some("10.0.0.0/8,2001:db8::/32,192.0.2.7/32")
        );
        assert!(list.allows(ip("10.200.0.1")));
        assert!(
            list.allows(ip("::ffff:10.1.2.3")),
            "an IPv4-mapped address is its IPv4 address"
        );
        assert!(list.allows(ip("2001:db8:1::9")));
        assert!(!list.allows(ip("192.0.2.8")));
        assert!(!list.allows(ip("2001:db9::1")));
        assert!(
            NetworkList::parse("").unwrap().allows(ip("198.51.100.1")),
            "empty: anywhere"
        );
        assert_eq!(NetworkList::parse("  ").unwrap().to_storage(), None);
        assert!(
            NetworkList::parse("10.0.0.0/8, 300.1.1.1")
                .unwrap_err()
                .contains("300.1.1.1")
        );
        let many: Vec<String> = (0..40).map(|i| format!("10.0.{i}.0/24")).collect();
        assert!(NetworkList::parse(&many.join(",")).is_err());
    }
}
