//! The private-network guard (server-side request forgery): a feed configured at a public
//! address may not be led into loopback, private, link-local or other non-public space
//! ([`restricted`]) — not by a redirect, not by what a name resolves to. Literal addresses and
//! private-use names are checked before every hop; names are checked where they are resolved,
//! by the client's resolver ([`PublicOnly`]), so a DNS answer cannot change between the check
//! and the connection. A feed whose configured URL is itself private, or that the user
//! allowed (`allow_private`), may go anywhere ([`reach`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

use crate::config::FetchSettings;

/// Where a fetch may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only.
    Public,
    /// Private addresses too.
    Any,
}

/// How far the feed configured at `configured` may reach: anywhere when that URL is itself
/// private (a literal private address or a private-use name: the user pointed gleaner at a
/// local service) or when `allow_private` is set for it or for every feed; else public
/// addresses only.
pub fn reach(settings: &FetchSettings, configured: &Url) -> Reach {
    if settings.allow_private
        || settings.private_feeds.contains(configured)
        || restricted_host(configured).is_some()
    {
        Reach::Any
    } else {
        Reach::Public
    }
}

/// Why an address is not one a public feed may lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    Loopback,
    /// RFC 1918, and IPv6 site-local (deprecated).
    Private,
    /// RFC 6598 carrier-grade NAT, 100.64.0.0/10.
    SharedNat,
    /// RFC 4193 unique local, fc00::/7.
    UniqueLocal,
    /// 169.254.0.0/16 (where cloud metadata services answer) and fe80::/10.
    LinkLocal,
    Unspecified,
    Multicast,
    /// Reserved for other uses (IETF protocol assignments, benchmarking, class E, broadcast).
    Reserved,
}

impl Restricted {
    pub fn describe(self) -> &'static str {
        match self {
            Restricted::Loopback => "a loopback address",
            Restricted::Private => "a private address",
            Restricted::SharedNat => "a carrier-grade NAT address (100.64.0.0/10)",
            Restricted::UniqueLocal => "a unique local address (fc00::/7)",
            Restricted::LinkLocal => "a link-local address (where cloud metadata services answer)",
            Restricted::Unspecified => "the unspecified address",
            Restricted::Multicast => "a multicast address",
            Restricted::Reserved => "a reserved address",
        }
    }
}

/// Classifies an address: `None` for an ordinary public one. IPv4 addresses embedded in IPv6
/// (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// are judged by their IPv4 address. Documentation ranges (TEST-NET) count as public: they
/// lead nowhere inside.
pub fn restricted(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(v4) => restricted_v4(v4),
        IpAddr::V6(v6) => restricted_v6(v6),
    }
}

pub(super) fn restricted_v4(ip: Ipv4Addr) -> Option<Restricted> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => Restricted::Unspecified, // "this network", 0.0.0.0/8
        (127, ..) => Restricted::Loopback,
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => Restricted::Private,
        (100, 64..=127, _) => Restricted::SharedNat,
        (169, 254, _) => Restricted::LinkLocal,
        (192, 0, 0) | (198, 18..=19, _) => Restricted::Reserved,
        (224..=239, ..) => Restricted::Multicast,
        (240..=255, ..) => Restricted::Reserved,
        _ => return None,
    })
}

pub(super) fn restricted_v6(ip: Ipv6Addr) -> Option<Restricted> {
    if ip.is_unspecified() {
        return Some(Restricted::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Restricted::Loopback);
    }
    let s = ip.segments();
    let low_v4 = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
        [0, 0, 0, 0, 0, 0xffff, ..] => restricted_v4(low_v4()),
        [0, 0, 0, 0, 0, 0, ..] => Some(restricted_v4(low_v4()).unwrap_or(Restricted::Reserved)),
        // NAT64, RFC 6052
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => restricted_v4(low_v4()),
        // 6to4, RFC 3056: the IPv4 address follows the prefix
        [0x2002, hi, lo, ..] => restricted_v4(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        [x, ..] if x & 0xfe00 == 0xfc00 => Some(Restricted::UniqueLocal),
        [x, ..] if x & 0xffc0 == 0xfe80 => Some(Restricted::LinkLocal),
        [x, ..] if x & 0xffc0 == 0xfec0 => Some(Restricted::Private),
        [x, ..] if x & 0xff00 == 0xff00 => Some(Restricted::Multicast),
        _ => None,
    }
}

/// Names that are private by definition, whatever they resolve to: `localhost` and
/// `*.localhost` (RFC 6761), `*.local` (mDNS, RFC 6762), `*.home.arpa` (RFC 8375) and
/// `*.internal` (reserved for private use, ICANN 2024).
pub(super) fn private_name(host: &str) -> Option<&'static str> {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| h == suffix || h.ends_with(&format!(".{suffix}"));
    if under("localhost") {
        Some("a loopback name")
    } else if under("local") || under("home.arpa") || under("internal") {
        Some("a private-use name")
    } else {
        None
    }
}

/// Why `url`'s host is not public, judged from the URL alone (no DNS).
pub fn restricted_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv4(ip) => restricted_v4(ip).map(|k| format!("{ip} is {}", k.describe())),
        url::Host::Ipv6(ip) => restricted_v6(ip).map(|k| format!("{ip} is {}", k.describe())),
        url::Host::Domain(d) => private_name(d).map(|what| format!("{d} is {what}")),
    }
}

/// A name that resolved only to addresses a public feed may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {addr}, {}", .kind.describe())]
pub struct ResolvedPrivate {
    pub host: String,
    pub addr: IpAddr,
    pub kind: Restricted,
}

/// Keeps the public addresses a name resolved to; refuses a name with none.
pub fn screen(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, ResolvedPrivate> {
    let mut first_refused = None;
    let public: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match restricted(a.ip()) {
            None => true,
            Some(kind) => {
                first_refused.get_or_insert((a.ip(), kind));
                false
            }
        })
        .collect();
    match (public.is_empty(), first_refused) {
        (true, Some((addr, kind))) => Err(ResolvedPrivate {
            host: host.to_string(),
            addr,
            kind,
        }),
        _ => Ok(public),
    }
}

/// The system resolver (getaddrinfo, on the blocking pool, as reqwest's own), with
/// [`screen`] applied: where the guard against names pointing inside belongs, since the
/// addresses checked are the ones connected to.
#[derive(Debug)]
pub(super) struct PublicOnly {
    pub(super) exempt: Option<String>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let exempt = self.exempt.as_deref() == Some(host.as_str());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = if exempt { addrs } else { screen(&host, addrs)? };
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_addresses_are_classified() {
        let r = |s: &str| restricted(s.parse().unwrap());
        use Restricted::*;
        for (addr, want) in [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(SharedNat)),
            ("100.127.255.255", Some(SharedNat)),
            ("100.128.0.1", None),
            ("169.254.169.254", Some(LinkLocal)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("255.255.255.255", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            ("192.0.0.170", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
            ("203.0.113.10", None), // TEST-NET-3: public-looking, used by the tests
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(Private)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(Loopback)),
            ("::8.8.8.8", Some(Reserved)),
            ("64:ff9b::10.0.0.1", Some(Private)),
            ("64:ff9b::8.8.8.8", None),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:0808:0808::", None),
            ("2606:4700::1111", None),
            ("2001:db8::1", None),
        ] {
            assert_eq!(r(addr), want, "{addr}");
        }
    }

    #[test]
    fn hosts_are_judged_from_the_url_alone() {
        let h = |s: &str| restricted_host(&Url::parse(s).unwrap());
        assert_eq!(
            h("http://127.0.0.1:8080/feed").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        // The URL parser normalizes numeric hosts before anyone connects.
        assert_eq!(
            h("http://2130706433/").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        assert_eq!(
            h("http://0x7f.1/").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        assert_eq!(h("http://[::1]/").unwrap(), "::1 is a loopback address");
        assert!(
            h("http://[::ffff:a9fe:a9fe]/")
                .unwrap()
                .contains("link-local")
        );
        assert_eq!(
            h("http://localhost/").unwrap(),
            "localhost is a loopback name"
        );
        assert_eq!(
            h("http://LocalHost./").unwrap(),
            "localhost. is a loopback name"
        );
        assert!(h("http://app.localhost:3000/").is_some());
        assert!(h("http://nas.local/").is_some());
        assert!(h("http://router.home.arpa/").is_some());
        assert!(h("http://metadata.google.internal/").is_some());
        assert_eq!(h("http://203.0.113.10/feed"), None);
        assert_eq!(h("https://blog.example/feed"), None);
        assert_eq!(h("https://localhost.example/feed"), None);
        assert_eq!(h("https://notlocal/feed"), None);
    }

    #[test]
    fn reach_follows_the_configured_url_and_the_opt_ins() {
        let mut s = FetchSettings::default();
        let public = Url::parse("http://203.0.113.10/feed").unwrap();
        let private = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        assert_eq!(reach(&s, &public), Reach::Public);
        assert_eq!(reach(&s, &private), Reach::Any);
        assert_eq!(
            reach(&s, &Url::parse("http://localhost/").unwrap()),
            Reach::Any
        );
        s.private_feeds.insert(public.clone());
        assert_eq!(reach(&s, &public), Reach::Any);
        let other = Url::parse("http://203.0.113.11/feed").unwrap();
        assert_eq!(reach(&s, &other), Reach::Public);
        s.allow_private = true;
        assert_eq!(reach(&s, &other), Reach::Any);
    }

    #[test]
    fn resolved_names_keep_only_public_addresses() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let e = screen("evil.example", vec![a("127.0.0.1:0"), a("[::1]:0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "evil.example resolves to 127.0.0.1, a loopback address"
        );
        let e = screen("meta.example", vec![a("169.254.169.254:0")]).unwrap_err();
        assert!(e.to_string().contains("link-local"), "{e}");
        // A mixed answer (a rebinding trick) keeps only what is public.
        let kept = screen("mixed.example", vec![a("10.0.0.1:0"), a("203.0.113.7:0")]).unwrap();
        assert_eq!(kept, vec![a("203.0.113.7:0")]);
        // No answer at all is the resolver's error to report, not this one.
        assert_eq!(screen("empty.example", vec![]).unwrap(), vec![]);
    }
}
