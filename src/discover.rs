//! Finding the feeds of a site, for `gleaner add URL`: the URL may be a feed itself; else the
//! feeds its page declares (`<link rel="alternate">`); else the common paths (`/feed`,
//! `/rss.xml`, `/atom.xml`, `/index.xml`, …) at the site's root, tried in turn until one is a
//! feed. Every candidate is fetched and parsed: only what parses as a feed is offered.
//! Requests go one at a time (a site gets a handful, never a burst).

use url::Url;

use crate::ingest::{Fetcher, PageError, fetch_page};
use crate::model::{Discovery, Found, How};

/// Tried at the site's root when the page declares no feed, in this order.
pub const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.xml",
    "/rss",
    "/feed.json",
    "/feeds/posts/default",
];

/// At most this many declared feeds are fetched (a page can declare dozens: one per tag).
const MAX_DECLARED: usize = 12;

/// The page itself could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {url}: {reason}")]
pub struct DiscoverError {
    pub url: Url,
    pub reason: String,
}

/// Finds the feeds of the site or page at `url`.
pub async fn discover(fetcher: &Fetcher, url: &Url) -> Result<Discovery, DiscoverError> {
    let page_err = |reason: String| DiscoverError {
        url: url.clone(),
        reason,
    };
    let body = fetch_page(fetcher, url)
        .await
        .map_err(|e| page_err(e.to_string()))?;
    let base = body.url.clone();
    let mut out = Discovery::default();
    if let Ok(feed) = crate::parse::parse(&body.bytes, body.content_type.as_deref(), &base) {
        out.found.push(Found {
            url: body.moved_to.clone().unwrap_or_else(|| url.clone()),
            title: feed.title,
            format: feed.format,
            entries: feed.entries.len(),
            how: How::Given,
        });
        return Ok(out);
    }
    let page = crate::page::extract(&body.text);
    let mut tried: Vec<Url> = vec![base.clone()];
    for link in page.feeds.iter().take(MAX_DECLARED) {
        if let Some(candidate) = base
            .join(&link.href)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        {
            let title = link.title.as_deref();
            try_candidate(
                fetcher,
                &mut out,
                &mut tried,
                candidate,
                How::Declared,
                title,
            )
            .await;
        }
    }
    if out.found.is_empty() {
        for path in COMMON_PATHS {
            if let Ok(candidate) = base.join(path)
                && try_candidate(
                    fetcher,
                    &mut out,
                    &mut tried,
                    candidate,
                    How::CommonPath,
                    None,
                )
                .await
            {
                break;
            }
        }
    }
    Ok(out)
}

/// Fetches and parses `candidate` unless it was tried already, and records it as found (with
/// the page's title for it when the feed has none) or rejected. True when it is a feed.
async fn try_candidate(
    fetcher: &Fetcher,
    out: &mut Discovery,
    tried: &mut Vec<Url>,
    candidate: Url,
    how: How,
    link_title: Option<&str>,
) -> bool {
    if tried.contains(&candidate) {
        return false;
    }
    tried.push(candidate.clone());
    match probe(fetcher, &candidate, how).await {
        Ok(mut found) => {
            found.title = found.title.or_else(|| link_title.map(str::to_string));
            out.found.push(found);
            true
        }
        Err(why) => {
            out.rejected.push((candidate, why));
            false
        }
    }
}

/// Fetches and parses one candidate.
async fn probe(fetcher: &Fetcher, url: &Url, how: How) -> Result<Found, String> {
    let body = fetch_page(fetcher, url).await.map_err(|e| match e {
        PageError::Answered(status) => format!("HTTP {status}"),
        PageError::Failed(why) => why,
    })?;
    let feed = crate::parse::parse(&body.bytes, body.content_type.as_deref(), &body.url)
        .map_err(|e| e.to_string())?;
    Ok(Found {
        url: body.moved_to.clone().unwrap_or_else(|| url.clone()),
        title: feed.title,
        format: feed.format,
        entries: feed.entries.len(),
        how,
    })
}
