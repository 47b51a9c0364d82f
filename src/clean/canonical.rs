//! Canonical URLs: one spelling per story, so the same post shared by several feeds is one row.
//!
//! The rules, applied in order (each has a test below):
//! 1. only `http` and `https` URLs have a canonical form; `http` ≡ `https` (written `https`);
//! 2. scheme and host are lower-cased (the `url` crate does this), a leading `www.` is dropped
//!    (when a dotted name remains),
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
    // `www.example.com` → `example.com`, but `www.com` stays (a bare TLD is not a host).
    if let Some(host) = u.host_str().and_then(|h| h.strip_prefix("www."))
        && host.contains('.')
    {
        let host = host.to_string();
        u.set_host(Some(&host)).ok()?;
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
