//! Who a client is, for the per-client limits: the address it connects from.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use actix_web::HttpRequest;

/// A client as the limits see it: an IPv4 address, or an IPv6 address cut to its /64 network.
///
/// Why /64: a host on an IPv6 network is handed a whole /64 and picks addresses in it at will
/// (RFC 4291 §2.5.1, temporary addresses of RFC 8981), so a limit per full IPv6 address would
/// be a limit per whim. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6Net([u8; 8]),
    /// No peer address known (not a TCP connection): all such clients share one key.
    Unknown,
}

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientKey::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut net = [0; 8];
                net.copy_from_slice(&v6.octets()[..8]);
                ClientKey::V6Net(net)
            }
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(octets) => write!(f, "{}", Ipv4Addr::from(*octets)),
            ClientKey::V6Net(net) => {
                let mut octets = [0; 16];
                octets[..8].copy_from_slice(net);
                write!(f, "{}/64", Ipv6Addr::from(octets))
            }
            ClientKey::Unknown => f.write_str("unknown"),
        }
    }
}

/// The proxies whose forwarded client address is believed (`--trusted-proxy`), as app data.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

/// The key of the client that sent `req`: the one place that decides who a client is, for every
/// per-client limit (chat, client reports, wrong tokens).
///
/// The TCP peer address; behind a reverse proxy named with `--trusted-proxy`, the address that
/// proxy forwarded: the last `for=` of `Forwarded` (RFC 7239 §5.2) or the last address of
/// `X-Forwarded-For`, the ones the proxy itself appended. From any other peer those headers are
/// ignored: any client can write them.
pub fn client_key(req: &HttpRequest) -> ClientKey {
    let Some(peer) = req.peer_addr().map(|p| p.ip().to_canonical()) else {
        return ClientKey::Unknown;
    };
    let trusted = req
        .app_data::<actix_web::web::Data<TrustedProxies>>()
        .is_some_and(|proxies| proxies.0.contains(&peer));
    let forwarded = trusted.then(|| forwarded_for(req)).flatten();
    ClientKey::of(forwarded.unwrap_or(peer))
}

/// The client address a proxy appended last, if it can be read.
fn forwarded_for(req: &HttpRequest) -> Option<IpAddr> {
    let headers = req.headers();
    let from_forwarded = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .next_back();
    let from_x = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .next_back();
    let text = from_forwarded.or(from_x)?;
    // `for="[2001:db8::1]:4711"`, `for=192.0.2.60:1234` or a bare address.
    let host = text
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']').map(|(ip, _)| ip.to_owned()))
        .unwrap_or_else(|| match text.rsplit_once(':') {
            Some((ip, port)) if !ip.contains(':') && port.parse::<u16>().is_ok() => ip.to_owned(),
            _ => text.clone(),
        });
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn key_of(peer: &str, trusted: bool, headers: &[(&str, &str)]) -> ClientKey {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        if trusted {
            let ip = peer.parse::<std::net::SocketAddr>().unwrap().ip();
            req = req.app_data(actix_web::web::Data::new(TrustedProxies(vec![ip])));
        }
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        client_key(&req.to_http_request())
    }

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        let fwd = [("x-forwarded-for", "198.51.100.1, 192.0.2.9")];
        assert_eq!(
            key_of("127.0.0.1:5000", true, &fwd).to_string(),
            "192.0.2.9"
        );
        assert_eq!(
            key_of("127.0.0.1:5000", false, &fwd).to_string(),
            "127.0.0.1"
        );
        let rfc = [(
            "forwarded",
            "for=198.51.100.1, for=\"[2001:db8:cafe::17]:4711\"",
        )];
        assert_eq!(
            key_of("127.0.0.1:5000", true, &rfc).to_string(),
            "2001:db8:cafe::/64"
        );
        let port = [("forwarded", "for=192.0.2.60:1234;proto=http")];
        assert_eq!(
            key_of("127.0.0.1:5000", true, &port).to_string(),
            "192.0.2.60"
        );
        assert_eq!(key_of("127.0.0.1:5000", true, &[]).to_string(), "127.0.0.1");
    }

    #[test]
    fn ipv6_clients_are_their_64_network_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::of(a), ClientKey::of(b));
        assert_ne!(ClientKey::of(a), ClientKey::of(other));
        assert_eq!(ClientKey::of(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::of(mapped), ClientKey::V4([192, 0, 2, 7]));
        assert_eq!(ClientKey::of(mapped).to_string(), "192.0.2.7");
    }
}
