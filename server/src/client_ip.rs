//! The client's address behind a reverse proxy. Only a peer inside a trusted network
//! (`--trusted-proxies`) may say whom it forwards for: anyone else could write any
//! `X-Forwarded-For` they like and dodge the throttles or blame someone else in the log.

use app::functions::ClientAddr;
pub use app::networks::Cidr;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

/// The networks whose forwarding headers are believed; `STOOK_TRUSTED_PROXIES` is a
/// comma-separated list, empty for none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Cidr>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

/// The address a request came from: the TCP peer, unless the peer is a trusted proxy;
/// then the right-most address of `X-Forwarded-For` (or `Forwarded: for=`) that is not
/// itself a trusted proxy. Addresses left of that one were written by the client and
/// prove nothing. A malformed chain falls back to the nearest address known good.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let chain: Vec<&str> = {
        let forwarded_for: Vec<&str> = header_items(headers, "x-forwarded-for").collect();
        if forwarded_for.is_empty() {
            header_items(headers, header::FORWARDED.as_str())
                .filter_map(forwarded_for_param)
                .collect()
        } else {
            forwarded_for
        }
    };
    let mut nearest = peer;
    for hop in chain.iter().rev() {
        let Some(ip) = parse_hop(hop) else { return nearest };
        if !trusted.contains(ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// Every comma-separated item of every header of that name, in order.
fn header_items<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for_param(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Works out the client's address once per request (the panel's throttles and audit log,
/// the S3 endpoint's key activity) and puts it in the request's extensions.
pub async fn find_client_addr(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The listener's peer address; tests give theirs as MockConnectInfo.
    let extensions = request.extensions();
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| extensions.get::<MockConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
    if let Some(peer) = peer {
        let client = client_ip(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn bad_networks_are_refused_with_a_reason() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "nonsense",
            "10.0.0.0/-1",
            "10.0.0.0/",
        ] {
            let err = bad.parse::<Cidr>().unwrap_err();
            assert!(err.ends_with('.') && err.contains(bad), "{bad}: {err}");
        }
        assert_eq!("".parse::<TrustedProxies>().unwrap(), TrustedProxies::default());
        assert_eq!(
            " 10.0.0.0/8, ::1 ".parse::<TrustedProxies>().unwrap(),
            TrustedProxies(vec![cidr("10.0.0.0/8"), cidr("::1/128")])
        );
        assert!("10.0.0.0/8,bad".parse::<TrustedProxies>().is_err());
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_peers() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let spoofed = headers(&[("x-forwarded-for", "192.0.2.1")]);
        assert_eq!(client_ip(ip("198.51.100.9"), &spoofed, &trusted), ip("198.51.100.9"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &spoofed, &TrustedProxies::default()),
            ip("10.0.0.2"),
            "no proxy is trusted by default"
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &spoofed, &trusted), ip("192.0.2.1"));
        assert_eq!(client_ip(ip("::ffff:10.0.0.2"), &spoofed, &trusted), ip("192.0.2.1"));
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // The client wrote 1.1.1.1 itself; 203.0.113.5 is who reached the first proxy.
        let chain = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.5"),
            ("x-forwarded-for", "10.0.0.9"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.2"), &chain, &trusted), ip("203.0.113.5"));
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.9")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &all_trusted, &trusted), ip("10.0.0.7"));
        let broken = headers(&[("x-forwarded-for", "203.0.113.5, garbage, 10.0.0.9")]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &broken, &trusted),
            ip("10.0.0.9"),
            "a malformed hop stops the walk"
        );
        let none = headers(&[]);
        assert_eq!(client_ip(ip("10.0.0.2"), &none, &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_header_for_parameter() {
        let trusted: TrustedProxies = "10.0.0.0/8, fd00::/8".parse().unwrap();
        let forwarded = headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1",
        )]);
        assert_eq!(client_ip(ip("fd00::1"), &forwarded, &trusted), ip("2001:db8:cafe::17"));
        let with_port = headers(&[("forwarded", "for=\"192.0.2.60:8080\"")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &with_port, &trusted), ip("192.0.2.60"));
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &hidden, &trusted), ip("10.0.0.1"));
    }
}
