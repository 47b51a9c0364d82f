//! A web page fetched the way feeds are (the same client, limits and private-network guard;
//! one request at a time, so without the per-host gate's pauses), decoded to text: what `gleaner pick URL` reads a link's title from and what
//! feed discovery reads a site's `<link rel="alternate">` from.

use url::Url;

use super::Fetcher;
use crate::fetch::{self, Fetched};

/// A page as text, and where it was found (after redirects).
#[derive(Debug, Clone)]
pub struct Page {
    pub text: String,
    pub url: Url,
    /// The raw body too: discovery may find that the address given is itself a feed.
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// Where a permanent redirect moved it.
    pub moved_to: Option<Url>,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PageError {
    /// The server answered, but not with a body (304, 410, 429/503).
    #[error("the server answered HTTP {0}")]
    Answered(u16),
    /// The request failed (the fetcher's message: timeout, TLS, size limit, private address…).
    #[error("{0}")]
    Failed(String),
}

/// GETs `url` (no validators) and decodes its body (charset from the BOM or the document).
/// An answer other than a body is [`PageError::Answered`].
pub async fn fetch_page(fetcher: &Fetcher, url: &Url) -> Result<Page, PageError> {
    let fetched = fetch::fetch(&fetcher.client, &fetcher.settings, url, &Default::default())
        .await
        .map_err(|e| PageError::Failed(e.to_string()))?;
    match fetched {
        Fetched::Body(b) => {
            let text = crate::parse::charset::decode(&b.bytes, None)
                .text
                .into_owned();
            Ok(Page {
                text,
                url: b.meta.final_url.clone(),
                content_type: b.content_type.clone(),
                moved_to: b.meta.moved_to.clone(),
                bytes: b.bytes.to_vec(),
            })
        }
        other => Err(PageError::Answered(other.meta().status)),
    }
}
