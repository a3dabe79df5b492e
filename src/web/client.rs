//! Who the client is, for rate limits: the connection's peer, or, when that peer is a
//! trusted proxy (`TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is
//! not one of ours. An address a client can set itself is never believed. IPv6 clients
//! are keyed by their /64, which one household or host usually holds whole.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::app::AppState;

/// Parses `TRUSTED_PROXIES`: addresses or networks, separated by commas.
pub fn parse_trusted(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("TRUSTED_PROXIES: '{s}' is not an address or network"))
        })
        .collect()
}

fn trusted(ip: &IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(ip))
}

/// The client's address as far as it can be known.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.map(|p| p.to_canonical())?;
    if !trusted(&peer, proxies) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect();
    // Each proxy appends the address it saw: read from the right past our own proxies.
    Some(
        hops.iter()
            .rev()
            .find(|ip| !trusted(ip, proxies))
            .copied()
            .unwrap_or(peer),
    )
}

/// The key a client is limited under: its IPv4 address, or its IPv6 /64.
pub fn key_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// The client's key for rate limits ("local" when there is no connection, as in tests).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(
            client_ip(peer, &parts.headers, &app.config.trusted_proxies)
                .map(|ip| key_of(ip).to_string())
                .unwrap_or_else(|| "local".into()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = parse_trusted("10.0.0.0/8, 192.0.2.1").unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        // Behind our proxy: the client it saw, not what the client claimed before it.
        assert_eq!(
            client_ip(
                Some(proxy),
                &headers("6.6.6.6, 203.0.113.5, 10.0.0.9"),
                &proxies
            ),
            Some("203.0.113.5".parse().unwrap())
        );
        // A client talking to us directly cannot choose its address.
        assert_eq!(
            client_ip(Some(stranger), &headers("203.0.113.5"), &proxies),
            Some(stranger)
        );
        // No header behind a proxy: the proxy itself.
        assert_eq!(
            client_ip(Some(proxy), &HeaderMap::new(), &proxies),
            Some(proxy)
        );
        assert!(parse_trusted("not an address").is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(key_of(a), key_of(b));
        let v4: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(key_of(v4), v4);
    }
}
