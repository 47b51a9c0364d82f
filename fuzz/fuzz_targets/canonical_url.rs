//! Any string → `clean::canonical::canonicalize`: never panics, and when there is a canonical
//! form it is an https URL without credentials, default port, tracking parameter or fragment
//! (but `#!` routes), with its parameters sorted — and canonical again (idempotent).
#![no_main]

use gleaner::clean::canonical::{canonicalize, is_tracking_param};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Some(c) = canonicalize(input) else {
        return;
    };
    let u = Url::parse(&c).unwrap_or_else(|e| panic!("{input:?} → {c:?}, which is not a URL: {e}"));
    assert_eq!(u.scheme(), "https", "{input:?} → {c:?}");
    assert!(u.host_str().is_some(), "{input:?} → {c:?} has no host");
    assert!(
        u.username().is_empty() && u.password().is_none(),
        "{input:?} → {c:?} keeps credentials"
    );
    assert_ne!(
        u.port(),
        Some(443),
        "{input:?} → {c:?} keeps the default port"
    );
    assert!(
        u.fragment().is_none_or(|f| f.starts_with('!')),
        "{input:?} → {c:?} keeps a fragment"
    );
    let params: Vec<(String, String)> =
        u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert!(
        params.iter().all(|(k, _)| !is_tracking_param(k)),
        "{input:?} → {c:?} keeps a tracking parameter"
    );
    assert!(
        params.is_sorted(),
        "{input:?} → {c:?}: parameters not sorted"
    );
    let again = canonicalize(&c);
    assert_eq!(
        again.as_deref(),
        Some(c.as_str()),
        "not idempotent: {input:?} → {c:?} → {again:?}"
    );
});
