//! Canonical URLs: one spelling per story, so the same post shared by several feeds is one row.
//!
//! The rules, applied in order (each has a test below):
//! 1. only `http` and `https` URLs have a canonical form; `http` ≡ `https` (written `https`);
//! 2. scheme and host are lower-cased (the `url` crate does this), leading `www.`s are dropped
//!    (while a dotted name remains),
//!    and so is a port that is the default for http or https (80, 443);
//! 3. user name and password are dropped;
//! 4. the fragment is dropped, except `#!` routes, which address content;
//! 5. a trailing `/` is dropped from the path (the root path `/` stays);
//! 6. tracking parameters are removed from the query: every `utm_*`, every `_hs*`, and
//!    [`TRACKING_PARAMS`]; the remaining parameters are sorted by name, then value, and an
//!    empty query is dropped.
//!
//! Percent-encoding is normalised by the `url` crate's parser; nothing else about the path
//! changes (case in paths is significant).

use url::Url;

/// Query parameters that only track the reader (besides every `utm_*` and `_hs*`).
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "ref_url",
    "igshid",
    "yclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "s_cid",
    "vero_conv",
    "vero_id",
    "wickedid",
    "_openstat",
    "ncid",
    "sr_share",
    "cmpid",
    "campaign_id",
    "at_medium",
    "at_campaign",
    "__s",
    "ss_source",
    "ss_campaign_id",
    "trk",
    "trkcampaign",
    "spm",
    "_ga",
    "_gl",
];

/// Whether a query parameter name is tracking noise.
pub fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || lower.starts_with("_hs") || TRACKING_PARAMS.contains(&&*lower)
}

/// The canonical form of `url`, or `None` when it is not an absolute http(s) URL.
pub fn canonicalize(url: &str) -> Option<String> {
    canonicalize_url(Url::parse(url.trim()).ok()?)
}

/// [`canonicalize`] of a URL already parsed (from the trimmed text).
pub fn canonicalize_url(mut u: Url) -> Option<String> {
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    if u.scheme() == "http" {
        u.set_scheme("https").ok()?;
    }
    if matches!(u.port(), Some(80 | 443)) {
        u.set_port(None).ok()?;
    }
    // `www.example.com` → `example.com`, but `www.com` stays (a bare TLD is not a host). Every
    // leading `www.` goes, or `www.www.example.com` would canonicalize in two steps (found by
    // fuzzing, issue 6).
    if let Some(host) = u.host_str() {
        let mut bare = host;
        while let Some(rest) = bare.strip_prefix("www.")
            && rest.contains('.')
        {
            bare = rest;
        }
        if bare.len() < host.len() {
            let bare = bare.to_string();
            u.set_host(Some(&bare)).ok()?;
        }
    }
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if !u.fragment().is_some_and(|f| f.starts_with('!')) {
        u.set_fragment(None);
    }
    let path = u.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/').to_string();
        u.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
    }
    if u.query().is_some() {
        let mut params: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        params.sort();
        if params.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(params);
        }
    }
    Some(u.into())
}

#[cfg(test)]
mod tests {
    use super::canonicalize as c;

    fn same(a: &str, b: &str) {
        assert_eq!(c(a), c(b), "{a} vs {b}");
        assert!(c(a).is_some());
    }

    #[test]
    fn rule1_only_http_and_https_and_they_are_equal() {
        assert_eq!(c("mailto:a@b.example"), None);
        assert_eq!(c("javascript:alert(1)"), None);
        assert_eq!(c("/relative/path"), None);
        same("http://a.example/x", "https://a.example/x");
        assert_eq!(c("http://a.example/x").unwrap(), "https://a.example/x");
    }

    #[test]
    fn rule2_case_www_and_default_ports() {
        same("HTTPS://WWW.Example.COM/Post", "https://example.com/Post");
        same("http://example.com:80/a", "https://example.com/a");
        same("https://example.com:443/a", "https://example.com/a");
        assert_eq!(c("https://www.com/").unwrap(), "https://www.com/");
        // Found by fuzzing (issue 6): one `www.` at a time was not idempotent.
        assert_eq!(
            c("https://www.www.example.com/x").unwrap(),
            "https://example.com/x"
        );
        assert_eq!(c("https://www.www.com/").unwrap(), "https://www.com/");
        assert_eq!(
            c("https://example.com:8080/a").unwrap(),
            "https://example.com:8080/a"
        );
        // Path case is significant.
        assert_ne!(c("https://e.example/A"), c("https://e.example/a"));
    }

    #[test]
    fn rule3_credentials_dropped() {
        assert_eq!(c("https://u:p@e.example/a").unwrap(), "https://e.example/a");
    }

    #[test]
    fn rule4_fragments_dropped_except_hashbang() {
        same("https://e.example/a#comments", "https://e.example/a");
        assert_eq!(
            c("https://e.example/#!/post/1").unwrap(),
            "https://e.example/#!/post/1"
        );
    }

    #[test]
    fn rule5_trailing_slash() {
        same("https://e.example/post/", "https://e.example/post");
        same("https://e.example/post//", "https://e.example/post");
        assert_eq!(c("https://e.example").unwrap(), "https://e.example/");
        assert_eq!(c("https://e.example/").unwrap(), "https://e.example/");
    }

    #[test]
    fn rule6_tracking_params_stripped_rest_sorted() {
        same(
            "https://e.example/a?utm_source=feedburner&utm_medium=feed&b=2&a=1",
            "https://e.example/a?a=1&b=2",
        );
        for p in [
            "fbclid",
            "gclid",
            "msclkid",
            "mc_cid",
            "mc_eid",
            "_hsenc",
            "_hsmi",
            "ref",
            "UTM_Campaign",
        ] {
            same(&format!("https://e.example/a?{p}=x"), "https://e.example/a");
        }
        assert_eq!(c("https://e.example/a?").unwrap(), "https://e.example/a");
        // Meaningful parameters stay.
        assert_eq!(
            c("https://e.example/?p=123").unwrap(),
            "https://e.example/?p=123"
        );
        assert_ne!(c("https://e.example/?p=1"), c("https://e.example/?p=2"));
    }
}

/// Properties of the canonical form (issue 6), on arbitrary text and on generated URLs: the
/// rules above are promises, so equivalent spellings must meet in one canonical form.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::sample::select;
    use url::Url;

    use super::{TRACKING_PARAMS, canonicalize, is_tracking_param};

    /// Everything a canonical form promises, checked on the canonical form of `input`.
    fn check(input: &str) -> Result<Option<String>, TestCaseError> {
        let Some(c) = canonicalize(input) else {
            return Ok(None);
        };
        let u = Url::parse(&c).map_err(|e| TestCaseError::fail(format!("{c:?}: {e}")))?;
        prop_assert_eq!(u.scheme(), "https", "{:?} → {:?}", input, c);
        prop_assert!(u.host_str().is_some());
        prop_assert!(u.username().is_empty() && u.password().is_none());
        prop_assert_ne!(u.port(), Some(443));
        prop_assert!(u.fragment().is_none_or(|f| f.starts_with('!')));
        let params: Vec<(String, String)> =
            u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        prop_assert!(params.iter().all(|(k, _)| !is_tracking_param(k)));
        prop_assert!(params.is_sorted(), "{:?} → {:?}", input, c);
        let again = canonicalize(&c);
        prop_assert_eq!(
            again.as_deref(),
            Some(c.as_str()),
            "not idempotent: {:?}",
            input
        );
        Ok(Some(c))
    }

    /// Upper-cases the ASCII letters of `s` whose bit in `bits` is set.
    fn mixcase(s: &str, bits: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if bits.rotate_right(i as u32) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    /// Percent-encodes the bytes of `s` whose bit in `bits` is set, in upper or lower case hex:
    /// in a query every spelling decodes to the same parameter.
    fn encode_some(s: &str, bits: u64) -> String {
        s.bytes()
            .enumerate()
            .map(|(i, b)| match bits.rotate_right(2 * i as u32) & 3 {
                1 => format!("%{b:02X}"),
                2 => format!("%{b:02x}"),
                _ => char::from(b).to_string(),
            })
            .collect()
    }

    /// A URL in canonical spelling, and the same URL spelled with every kind of noise the rules
    /// remove: scheme, case, `www.`, default ports, credentials, fragments, trailing slashes,
    /// tracking parameters, parameter order and percent-encoding in the query.
    #[derive(Debug, Clone)]
    struct Spellings {
        canonical: String,
        noisy: String,
    }

    type Param = (String, String, u32, u64);

    fn param(key: BoxedStrategy<String>) -> impl Strategy<Value = Param> {
        (key, "[A-Za-z0-9._*-]{0,6}", any::<u32>(), any::<u64>())
    }

    fn spellings() -> impl Strategy<Value = Spellings> {
        let host = (
            prop::collection::vec("[a-z][a-z0-9]{0,7}", 1..3)
                .prop_filter("not www", |l| l[0] != "www"),
            select(vec!["example", "com", "org", "dev"]),
        );
        let port = prop_oneof![
            3 => Just(None),
            1 => (1u16..).prop_filter("not a default port", |p| *p != 80 && *p != 443).prop_map(Some),
        ];
        let path = (
            prop::collection::vec("[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}", 0..4),
            0usize..3,
        );
        let real = prop::collection::vec(param("[a-z][a-z0-9]{0,5}".boxed()), 0..4);
        let tracking_key = prop_oneof![
            select(TRACKING_PARAMS).prop_map(String::from),
            "utm_[a-z]{1,8}",
            "_hs[a-z]{0,5}",
        ];
        let tracking = prop::collection::vec(param(tracking_key.boxed()), 0..4);
        let noise = (
            any::<u64>(),
            select(vec!["http", "https"]),
            any::<bool>(),
            select(vec!["", "user@", "user:secret@", ":@"]),
            select(vec!["", ":80", ":443", ":080", ":0443"]),
            prop::option::of("[a-z0-9]{0,6}"),
            prop::option::of("[a-z0-9/]{0,8}"),
            any::<bool>(),
        );
        (host, port, path, real, tracking, noise).prop_map(
            |(
                (labels, tld),
                port,
                (segments, extra_slashes),
                real,
                tracking,
                (bits, scheme, www, creds, default_port, fragment, hashbang, empty_query),
            )| {
                let host = format!("{}.{tld}", labels.join("."));
                let port = port.map(|p| format!(":{p}"));
                let path = format!("/{}", segments.join("/"));
                let real: Vec<Param> = real
                    .into_iter()
                    .filter(|(k, ..)| !is_tracking_param(k))
                    .collect();
                let mut sorted: Vec<(&str, &str)> = real
                    .iter()
                    .map(|(k, v, ..)| (k.as_str(), v.as_str()))
                    .collect();
                sorted.sort();
                let query: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                let hashbang = hashbang.map(|h| format!("#!{h}")).unwrap_or_default();
                let canonical = format!(
                    "https://{host}{}{path}{query}{hashbang}",
                    port.as_deref().unwrap_or("")
                );

                let mut noisy_params: Vec<(u32, String)> = real
                    .iter()
                    .map(|(k, v, order, enc)| {
                        (
                            *order,
                            format!("{}={}", encode_some(k, *enc), encode_some(v, enc >> 32)),
                        )
                    })
                    .chain(tracking.iter().map(|(k, v, order, enc)| {
                        (
                            *order,
                            format!("{}={}", mixcase(k, *enc), encode_some(v, enc >> 7)),
                        )
                    }))
                    .collect();
                noisy_params.sort();
                let noisy_query: Vec<String> = noisy_params.into_iter().map(|(_, p)| p).collect();
                let noisy_query = if noisy_query.is_empty() {
                    if empty_query { "?" } else { "" }.to_string()
                } else {
                    format!("?{}", noisy_query.join("&"))
                };
                let noisy_path = if segments.is_empty() {
                    "/".repeat(extra_slashes)
                } else {
                    format!("{path}{}", "/".repeat(extra_slashes))
                };
                let fragment = if hashbang.is_empty() {
                    fragment.map(|f| format!("#{f}")).unwrap_or_default()
                } else {
                    hashbang.clone()
                };
                let noisy = format!(
                    "{}://{creds}{}{}{}{noisy_path}{noisy_query}{fragment}",
                    mixcase(scheme, bits),
                    if www {
                        mixcase("www.", bits >> 8)
                    } else {
                        String::new()
                    },
                    mixcase(&host, bits >> 12),
                    port.as_deref().unwrap_or(default_port),
                );
                Spellings { canonical, noisy }
            },
        )
    }

    /// Text that looks like a URL: the characters the URL parser treats specially.
    fn urlish() -> impl Strategy<Value = String> {
        (
            select(vec![
                "http://", "https://", "HTTP://", "hTtPs:", "//", "ftp://", "",
            ]),
            "[a-zA-Z0-9.:@/?#&=+%!\\[\\]\\\\ _~é\t\n-]{0,60}",
        )
            .prop_map(|(scheme, rest)| format!("{scheme}{rest}"))
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_is_canonical_once(s in any::<String>()) {
            check(&s)?;
            check(&format!("https://{s}"))?;
        }

        #[test]
        fn url_like_text_is_canonical_once(s in urlish()) {
            check(&s)?;
        }

        #[test]
        fn equivalent_spellings_meet_in_the_canonical_form(s in spellings()) {
            prop_assert_eq!(check(&s.canonical)?, Some(s.canonical.clone()));
            prop_assert_eq!(check(&s.noisy)?, Some(s.canonical.clone()), "noisy {:?}", s.noisy);
        }

        #[test]
        fn only_http_and_https_have_a_canonical_form(
            scheme in "[a-z][a-z0-9+.-]{0,8}",
            s in spellings(),
        ) {
            let rest = s.canonical.strip_prefix("https:").expect("generated as https");
            let other = format!("{scheme}:{rest}");
            let expected = matches!(scheme.as_str(), "http" | "https");
            prop_assert_eq!(check(&other)?.is_some(), expected, "{:?}", other);
        }
    }
}
