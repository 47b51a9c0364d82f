//! The digest by e-mail: one multipart/alternative message over SMTP (lettre, tokio, rustls
//! with ring). The password is read when sending, from the environment or a file, and never
//! appears in a message or a log.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Rendered;
use crate::config::{EmailSettings, PasswordSource, Security};

/// The password, from where the config says it is.
fn password(source: &PasswordSource) -> Result<String, String> {
    match source {
        PasswordSource::Env(name) => std::env::var(name)
            .map_err(|_| format!("the environment variable {name} (password_env) is not set")),
        PasswordSource::File(path) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display())),
    }
}

/// Checks what can be checked before sending (`gleaner check`): the password is there, the CA
/// file reads.
pub fn ready(s: &EmailSettings) -> Result<(), String> {
    if let Some(p) = &s.password {
        password(p)?;
    }
    tls(s)?;
    Ok(())
}

fn tls(s: &EmailSettings) -> Result<Tls, String> {
    if s.security == Security::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(s.host.clone());
    if let Some(ca) = &s.ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("ca_file {} holds no PEM certificate: {e}", ca.display()))?;
        params = params.add_root_certificate(cert);
    }
    let params = params
        .build_rustls()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    Ok(match s.security {
        Security::Tls => Tls::Wrapper(params),
        _ => Tls::Required(params),
    })
}

/// The message itself.
pub fn message(s: &EmailSettings, to: &[String], r: &Rendered) -> Result<Message, String> {
    let from: Mailbox = s
        .from
        .parse()
        .map_err(|e| format!("`{}` is not an e-mail address: {e}", s.from))?;
    let mut b = Message::builder()
        .from(from)
        .subject(r.subject.clone())
        .message_id(Some(r.message_id.clone()))
        .date_now()
        .user_agent(crate::USER_AGENT.to_string());
    for t in to {
        b = b.to(t
            .parse()
            .map_err(|e| format!("`{t}` is not an e-mail address: {e}"))?);
    }
    b.multipart(MultiPart::alternative_plain_html(
        r.text.clone(),
        r.html.clone(),
    ))
    .map_err(|e| format!("cannot build the message: {e}"))
}

/// Sends the digest to `to`. The whole exchange is bounded by twice the timeout (each read and
/// write by the timeout itself).
pub async fn send(s: &EmailSettings, to: &[String], r: &Rendered) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let msg = message(s, to, r)?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls(s)?)
        .timeout(Some(s.timeout));
    if let (Some(user), Some(p)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password(p)?));
    }
    let transport = builder.build();
    let at = format!("{}:{}", s.host, s.port);
    match tokio::time::timeout(s.timeout * 2, transport.send(msg)).await {
        Err(_) => Err(format!(
            "SMTP server {at} did not finish within {}",
            humantime::format_duration(s.timeout * 2)
        )),
        Ok(Err(e)) => Err(
            match crate::fetch::causes(&e).find_map(|c| match c.downcast_ref::<rustls::Error>() {
                Some(rustls::Error::InvalidCertificate(c)) => Some(c),
                _ => None,
            }) {
                Some(c) => format!(
                    "TLS certificate of SMTP server {at} rejected: {}; `ca_file` trusts a private CA",
                    crate::fetch::certificate_problem(c)
                ),
                None => format!("SMTP server {at}: {}", crate::text::error_chain(&e)),
            },
        ),
        Ok(Ok(_)) => Ok(()),
    }
}
