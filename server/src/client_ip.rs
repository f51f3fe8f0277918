//! The client's address behind a reverse proxy. Only a peer inside a trusted network
//! (`--trusted-proxies`) may say whom it forwards for: anyone else could write any
//! `X-Forwarded-For` they like and dodge the throttles or blame someone else in the log.
//! And only the one header the operator names (`--client-ip-header`) is read: a proxy
//! that writes `Forwarded` passes a client's own `X-Forwarded-For` along untouched.

use app::error::AppError;
use app::functions::ClientAddr;
pub use app::networks::Cidr;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use std::net::SocketAddr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

/// The header a trusted proxy names the client in (`STOOK_CLIENT_IP_HEADER`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For: client, proxy, ...`: the default.
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy`.
    Forwarded,
    /// Another header of addresses written like `X-Forwarded-For`'s, such as `X-Real-IP`.
    Other(HeaderName),
}

impl FromStr for ClientIpHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = HeaderName::from_str(text.trim()).map_err(|_| {
            format!("“{text}” is not a header name: give X-Forwarded-For, Forwarded or another like X-Real-IP.")
        })?;
        Ok(match name.as_str() {
            "x-forwarded-for" => ClientIpHeader::XForwardedFor,
            "forwarded" => ClientIpHeader::Forwarded,
            _ => ClientIpHeader::Other(name),
        })
    }
}

impl std::fmt::Display for ClientIpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientIpHeader::XForwardedFor => f.write_str("X-Forwarded-For"),
            ClientIpHeader::Forwarded => f.write_str("Forwarded"),
            ClientIpHeader::Other(name) => f.write_str(name.as_str()),
        }
    }
}

/// The networks whose forwarding header is believed, and which header that is.
/// `STOOK_TRUSTED_PROXIES` is a comma-separated list, empty for none; the header is
/// `X-Forwarded-For` unless [`Self::with_header`] says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies {
    pub networks: Vec<Cidr>,
    pub header: ClientIpHeader,
    /// Refusals are answered as the S3 endpoint answers (XML), not as the panel (JSON).
    pub s3_endpoint: bool,
}

impl Default for TrustedProxies {
    fn default() -> Self {
        TrustedProxies {
            networks: Vec::new(),
            header: ClientIpHeader::XForwardedFor,
            s3_endpoint: false,
        }
    }
}

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(ip))
    }

    pub fn with_header(self, header: ClientIpHeader) -> Self {
        TrustedProxies { header, ..self }
    }

    pub fn for_s3_endpoint(self) -> Self {
        TrustedProxies {
            s3_endpoint: true,
            ..self
        }
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let networks = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies {
            networks,
            ..TrustedProxies::default()
        })
    }
}

/// The address a request came from: the TCP peer, unless the peer is a trusted proxy;
/// then the right-most address in the configured header that is not itself a trusted
/// proxy. Addresses left of that one were written by the client and prove nothing. A
/// malformed chain falls back to the nearest address known good.
///
/// Refused (`Err`, a sentence for the client) rather than guessed: a request from a
/// trusted proxy whose `X-Forwarded-For` and `Forwarded` name different clients, or that
/// carries only the one of them the operator did not name. One of the two was written by
/// the client; which one depends on the proxy, and Stook will not bet a network limit on it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> Result<IpAddr, String> {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return Ok(peer);
    }
    let chain = |header: &ClientIpHeader| -> Vec<&str> {
        match header {
            ClientIpHeader::XForwardedFor => header_items(headers, "x-forwarded-for").collect(),
            ClientIpHeader::Forwarded => header_items(headers, header::FORWARDED.as_str())
                .filter_map(forwarded_for_param)
                .collect(),
            ClientIpHeader::Other(name) => header_items(headers, name.as_str()).collect(),
        }
    };
    let named = chain(&trusted.header);
    let other = match trusted.header {
        ClientIpHeader::XForwardedFor => Some(ClientIpHeader::Forwarded),
        ClientIpHeader::Forwarded => Some(ClientIpHeader::XForwardedFor),
        // Another header (X-Real-IP) is often written beside X-Forwarded-For with the
        // nearest hop only: the two may differ by design.
        ClientIpHeader::Other(_) => None,
    };
    if let Some(other) = other {
        let other_chain = chain(&other);
        if !other_chain.is_empty()
            && (named.is_empty() || walk(&named, peer, trusted) != walk(&other_chain, peer, trusted))
        {
            let named_header = &trusted.header;
            return Err(if named.is_empty() {
                format!(
                    "This request came through a trusted proxy with a {other} header but no {named_header}, \
                     the one Stook reads (STOOK_CLIENT_IP_HEADER), so its client address is unknown."
                )
            } else {
                format!(
                    "This request's {named_header} and {other} headers name different clients, so its client \
                     address is unknown: send neither, and have the proxy write only {named_header}."
                )
            });
        }
    }
    Ok(walk(&named, peer, trusted))
}

/// The right-most address of a chain that is not a trusted proxy (see [`client_ip`]).
fn walk(chain: &[&str], peer: IpAddr, trusted: &TrustedProxies) -> IpAddr {
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
        .filter(|item| !item.is_empty())
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
/// the S3 endpoint's key activity and network limits) and puts it in the request's
/// extensions; a request whose forwarding headers disagree is refused with 400.
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
        match client_ip(peer, request.headers(), &trusted) {
            Ok(client) => {
                request.extensions_mut().insert(ClientAddr(client));
            }
            Err(message) => {
                tracing::warn!(%peer, reason = %message, "refused a forwarded request");
                return refusal(&trusted, &message);
            }
        }
    }
    next.run(request).await
}

/// A 400 in the listener's own error format; nothing of the request was read.
fn refusal(trusted: &TrustedProxies, message: &str) -> Response {
    let mut response = if trusted.s3_endpoint {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRequest</Code><Message>{message}</Message></Error>"
        );
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/xml")],
            body,
        )
            .into_response()
    } else {
        let err = AppError::invalid("client_address", message);
        let body = serde_json::to_string(&err).unwrap_or_default();
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    };
    // The body, if any, was not read: this connection cannot carry another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
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

    fn trusting(networks: &str, header: &str) -> TrustedProxies {
        let trusted: TrustedProxies = networks.parse().unwrap();
        trusted.with_header(header.parse().unwrap())
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
            " 10.0.0.0/8, ::1 ".parse::<TrustedProxies>().unwrap().networks,
            vec![cidr("10.0.0.0/8"), cidr("::1/128")]
        );
        assert!("10.0.0.0/8,bad".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn the_header_is_named_by_the_operator() {
        assert_eq!("X-Forwarded-For".parse(), Ok(ClientIpHeader::XForwardedFor));
        assert_eq!(" forwarded ".parse(), Ok(ClientIpHeader::Forwarded));
        assert_eq!(
            "X-Real-IP".parse(),
            Ok(ClientIpHeader::Other(HeaderName::from_static("x-real-ip")))
        );
        assert_eq!(ClientIpHeader::Forwarded.to_string(), "Forwarded");
        let bad = "X Real IP".parse::<ClientIpHeader>().unwrap_err();
        assert!(bad.contains("X Real IP"), "{bad}");
        assert!("".parse::<ClientIpHeader>().is_err());
        assert_eq!(TrustedProxies::default().header, ClientIpHeader::XForwardedFor);
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
        let spoofed = headers(&[("x-forwarded-for", "192.0.2.1"), ("forwarded", "for=192.0.2.2")]);
        assert_eq!(
            client_ip(ip("198.51.100.9"), &spoofed, &trusted),
            Ok(ip("198.51.100.9"))
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &spoofed, &TrustedProxies::default()),
            Ok(ip("10.0.0.2")),
            "no proxy is trusted by default"
        );
        let one = headers(&[("x-forwarded-for", "192.0.2.1")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &one, &trusted), Ok(ip("192.0.2.1")));
        assert_eq!(client_ip(ip("::ffff:10.0.0.2"), &one, &trusted), Ok(ip("192.0.2.1")));
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // The client wrote 1.1.1.1 itself; 203.0.113.5 is who reached the first proxy.
        let chain = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.5"),
            ("x-forwarded-for", "10.0.0.9"),
        ]);
        assert_eq!(client_ip(ip("10.0.0.2"), &chain, &trusted), Ok(ip("203.0.113.5")));
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.9")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &all_trusted, &trusted), Ok(ip("10.0.0.7")));
        let broken = headers(&[("x-forwarded-for", "203.0.113.5, garbage, 10.0.0.9")]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &broken, &trusted),
            Ok(ip("10.0.0.9")),
            "a malformed hop stops the walk"
        );
        let none = headers(&[]);
        assert_eq!(client_ip(ip("10.0.0.2"), &none, &trusted), Ok(ip("10.0.0.2")));
    }

    #[test]
    fn forwarded_header_for_parameter() {
        let trusted = trusting("10.0.0.0/8, fd00::/8", "Forwarded");
        let forwarded = headers(&[(
            "forwarded",
            "for=198.51.100.1;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1",
        )]);
        assert_eq!(
            client_ip(ip("fd00::1"), &forwarded, &trusted),
            Ok(ip("2001:db8:cafe::17"))
        );
        let with_port = headers(&[("forwarded", "for=\"192.0.2.60:8080\"")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &with_port, &trusted), Ok(ip("192.0.2.60")));
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &hidden, &trusted), Ok(ip("10.0.0.1")));
    }

    /// The attack: a proxy that writes only `Forwarded` passes the client's own
    /// `X-Forwarded-For` along, which Stook once preferred.
    #[test]
    fn only_the_named_header_is_read_and_a_disagreement_is_refused() {
        let peer = ip("10.0.0.2");
        let spoofed = headers(&[("x-forwarded-for", "192.0.2.5"), ("forwarded", "for=198.51.100.9")]);
        for header in ["Forwarded", "X-Forwarded-For"] {
            let refused = client_ip(peer, &spoofed, &trusting("10.0.0.0/8", header)).unwrap_err();
            assert!(
                refused.contains("X-Forwarded-For") && refused.contains("Forwarded"),
                "{header}: {refused}"
            );
        }
        // The proxy writes only Forwarded: the client's address is its `for=`.
        let honest = headers(&[("forwarded", "for=198.51.100.9")]);
        assert_eq!(
            client_ip(peer, &honest, &trusting("10.0.0.0/8", "Forwarded")),
            Ok(ip("198.51.100.9"))
        );
        // ...and Stook was told to read X-Forwarded-For: refused, not guessed.
        let refused = client_ip(peer, &honest, &trusting("10.0.0.0/8", "X-Forwarded-For")).unwrap_err();
        assert!(refused.contains("STOOK_CLIENT_IP_HEADER"), "{refused}");
        // A proxy that writes both, naming the same client, is fine.
        let both = headers(&[
            ("x-forwarded-for", "198.51.100.9, 10.0.0.3"),
            ("forwarded", "for=198.51.100.9, for=10.0.0.3"),
        ]);
        for header in ["Forwarded", "X-Forwarded-For"] {
            assert_eq!(
                client_ip(peer, &both, &trusting("10.0.0.0/8", header)),
                Ok(ip("198.51.100.9"))
            );
        }
        // An empty header names nobody.
        let empty = headers(&[("x-forwarded-for", ""), ("forwarded", "for=198.51.100.9")]);
        assert_eq!(
            client_ip(peer, &empty, &trusting("10.0.0.0/8", "Forwarded")),
            Ok(ip("198.51.100.9"))
        );
        // Another header is read alone; X-Forwarded-For beside it proves nothing.
        let real_ip = headers(&[("x-real-ip", "198.51.100.9"), ("x-forwarded-for", "192.0.2.5")]);
        assert_eq!(
            client_ip(peer, &real_ip, &trusting("10.0.0.0/8", "X-Real-IP")),
            Ok(ip("198.51.100.9"))
        );
        assert_eq!(
            client_ip(
                peer,
                &headers(&[("x-forwarded-for", "192.0.2.5")]),
                &trusting("10.0.0.0/8", "X-Real-IP")
            ),
            Ok(peer),
            "no X-Real-IP: the peer"
        );
    }
}
