//! The digest by webhook: one JSON POST, signed with HMAC-SHA256 when `[digest.webhook]
//! secret_env` names a key (`X-Gleaner-Signature: sha256=<hex of the body's MAC>`), with
//! `X-Gleaner-Delivery: digest-<week>` the same on every attempt of a week.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Rendered;
use crate::config::WebhookSettings;

/// `sha256=<hex>` of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", crate::text::hex(&mac.finalize().into_bytes()))
}

/// The key, when one is configured.
pub fn secret(s: &WebhookSettings) -> Result<Option<String>, String> {
    s.secret_env
        .as_ref()
        .map(|name| {
            std::env::var(name)
                .map_err(|_| format!("the environment variable {name} (secret_env) is not set"))
        })
        .transpose()
}

/// POSTs the digest; any answer but 2xx is a failure.
pub async fn send(s: &WebhookSettings, r: &Rendered) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = r.webhook_body(s.format).to_vec();
    let client = reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(s.timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut req = client
        .post(s.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Gleaner-Delivery", format!("digest-{}", r.week));
    if let Some(key) = secret(s)? {
        req = req.header("X-Gleaner-Signature", signature(key.as_bytes(), &body));
    }
    let at = crate::text::url_without_path(&s.url);
    let mut resp = req.body(body).send().await.map_err(|e| {
        let e = e.without_url();
        if e.is_timeout() {
            format!(
                "{at} did not answer within {}",
                humantime::format_duration(s.timeout)
            )
        } else {
            format!("{at}: {}", crate::text::error_chain(&e))
        }
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    // The start of the answer, on one line, says why (at most 1 KiB of it is read).
    let mut head = Vec::new();
    while head.len() < 1024 {
        match resp.chunk().await {
            Ok(Some(c)) => head.extend_from_slice(&c),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let why: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let why: String = why.chars().take(200).collect();
    Err(if why.is_empty() {
        format!("{at} answered {status}")
    } else {
        format!("{at} answered {status}: {why}")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn urls_are_shown_without_their_path() {
        let u = url::Url::parse("https://hooks.slack.com/services/T0/B0/SECRET").unwrap();
        assert_eq!(
            crate::text::url_without_path(&u),
            "https://hooks.slack.com/…"
        );
    }
}
