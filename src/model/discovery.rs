//! What feed discovery found at a site or page (`gleaner add`, the desk's feeds page).

use url::Url;

/// How a feed was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The URL given is a feed.
    Given,
    /// The page declares it with `<link rel="alternate">`.
    Declared,
    /// One of [`crate::discover::COMMON_PATHS`].
    CommonPath,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Given => "the address given",
            How::Declared => "declared by the page",
            How::CommonPath => "a common path",
        }
    }
}

/// A feed that was fetched and parsed.
#[derive(Debug, Clone)]
pub struct Found {
    pub url: Url,
    /// The feed's own title, else the title the page gave its link.
    pub title: Option<String>,
    /// `rss2`, `atom`, `json`, …
    pub format: String,
    pub entries: usize,
    pub how: How,
}

impl Found {
    /// The name it gets in feeds.toml: the one asked for, else its title, else its host
    /// (control characters dropped, trimmed; `gleaner add` and the web desk alike).
    pub fn feed_name(&self, wanted: Option<&str>) -> String {
        wanted
            .map(str::to_string)
            .or_else(|| self.title.clone())
            .map(|t| crate::text::clean_control(&t).trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.url.host_str().unwrap_or("feed").to_string())
    }
}

/// What discovery saw: the feeds, and the candidates that were not feeds (with why).
#[derive(Debug, Default)]
pub struct Discovery {
    pub found: Vec<Found>,
    pub rejected: Vec<(Url, String)>,
}
