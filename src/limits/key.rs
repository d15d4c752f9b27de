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

/// The key of the client that sent `req`: the one place that decides who a client is, for every
/// per-client limit (chat, client reports).
///
/// Today the TCP peer address. Behind a reverse proxy every client would share the proxy's
/// address; reading the forwarded address (`Forwarded`, RFC 7239, or `X-Forwarded-For`) belongs
/// here, and only from a proxy the instructor named as trusted, since any client can write those
/// headers.
pub fn client_key(req: &HttpRequest) -> ClientKey {
    req.peer_addr()
        .map_or(ClientKey::Unknown, |peer| ClientKey::of(peer.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
