//! RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 0.3/1.0 documents → [`ParsedFeed`], in one streaming
//! pass over quick-xml, with feedparser's reading rules (issue 14).
//!
//! feed-rs (which still reads JSON Feed) drops what real XML feeds carry outside the core
//! elements: Dublin Core titles and dates, `dcterms:*`, `itunes:summary`, `media:title`, XHTML
//! bodies; it skips RSS 1.0 items without `<link>`, reads RSS `<description>` as plain text,
//! rejects Atom 0.3 inline XML and gives up on the whole document at its first error. So XML
//! is read here:
//!
//! - Namespaces are resolved; the usual prefixes (`dc:`, `content:`, `itunes:`, `media:` …)
//!   count even when the document forgot to declare them, and RSS 2.0 inside a default
//!   namespace is RSS. Element names compare without case, as feedparser's do.
//! - Each entry field has a list of sources and the first one present wins ([`Field`]; a
//!   source given twice counts by its last, as in feedparser): the
//!   title from `title`, then `dc:title`, then `media:title`; the summary from `description`
//!   or Atom `summary`, then `dc:description`, `itunes:summary`, `media:description`; the body
//!   from `content:encoded` or Atom `content`, then XHTML `body`, `body`, `fullitem`; the date
//!   from `pubDate`/`published`/`issued`, then `dc:date`, `dcterms:issued`, `dcterms:created`;
//!   the update from `updated`/`modified`, then `dcterms:modified`; authors from `author`, then
//!   `dc:creator`, `dc:author`, `itunes:author`. An RSS 1.0 item's `rdf:about` is its identity,
//!   and its link when it has none.
//! - Text is read as its author meant it: Atom `type` (`text`, `html`, `xhtml` and MIME types)
//!   and Atom 0.3 `mode` (`escaped`, `base64`, `xml`); RSS `description` is escaped HTML;
//!   markup written straight into a text element (`<title>a <b>b</b></title>`) is kept as HTML.
//! - `xml:base`, on any element including the root, applies to links and to the HTML inside.
//! - References: the five XML ones and numeric ones, plus every HTML named entity, which real
//!   feeds use without declaring; anything a DTD declares stays unexpanded (no entity
//!   expansion means no billion laughs). Windows-1252 characters and UTF-8 read as Latin-1
//!   inside a text are repaired ([`super::mojibake`]).
//! - Lenient where readers are: an end tag closes the open element it names (and what is
//!   open inside it); a stray one is ignored. A document cut off mid-way keeps the entries
//!   that were complete, and says so in [`ParsedFeed::truncated`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::LazyLock;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use url::Url;

use super::{date, mojibake};
use crate::model::{ParsedFeed, RawEntry, RawText, TextKind};

/// Why a document could not be read as an XML feed.
#[derive(Debug, Clone, PartialEq)]
pub enum XmlError {
    /// The root element is not a feed's.
    NotAFeed(String),
    /// The markup broke before any entry was complete.
    Malformed(String),
}

/// The namespaces gleaner reads, with "none" standing for plain RSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No namespace, or one of the RSS 0.9x/2.0 namespaces some publishers declare.
    Rss,
    Rss1,
    Atom,
    Atom03,
    Rdf,
    Dc,
    DcTerms,
    Content,
    Itunes,
    Media,
    Xhtml,
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    let uri = uri.trim().to_ascii_lowercase();
    let uri = uri.trim_end_matches(['/', '#']);
    match uri {
        "http://www.w3.org/2005/atom" => Ns::Atom,
        "http://purl.org/atom/ns" => Ns::Atom03,
        "http://purl.org/rss/1.0" | "http://my.netscape.com/rdf/simple/0.9" => Ns::Rss1,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns" => Ns::Rdf,
        "http://purl.org/dc/elements/1.1" | "http://purl.org/dc/elements/1.0" => Ns::Dc,
        "http://purl.org/dc/terms" => Ns::DcTerms,
        "http://purl.org/rss/1.0/modules/content" => Ns::Content,
        "http://www.itunes.com/dtds/podcast-1.0.dtd"
        | "http://example.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
        "http://search.yahoo.com/mrss" | "http://video.search.yahoo.com/mrss" => Ns::Media,
        "http://www.w3.org/1999/xhtml" => Ns::Xhtml,
        "http://backend.userland.com/rss2"
        | "http://backend.userland.com/rss"
        | "http://blogs.law.harvard.edu/tech/rss"
        | "http://purl.org/net/rss1.1" => Ns::Rss,
        _ => Ns::Other,
    }
}

/// Prefixes used without a declaration, by the namespace they always mean.
fn ns_of_prefix(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "dc" => Ns::Dc,
        "dcterms" => Ns::DcTerms,
        "content" => Ns::Content,
        "itunes" => Ns::Itunes,
        "media" => Ns::Media,
        "atom" => Ns::Atom,
        "xhtml" => Ns::Xhtml,
        "rdf" => Ns::Rdf,
        _ => Ns::Other,
    }
}

/// The document's dialect, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Rss,
    Rdf,
    Atom,
    Atom03,
}

impl Dialect {
    fn format(self) -> &'static str {
        match self {
            Dialect::Rss => "rss2",
            Dialect::Rdf => "rss1",
            Dialect::Atom | Dialect::Atom03 => "atom",
        }
    }
}

/// Every entry field gleaner reads, by the element it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    DcTitle,
    MediaTitle,
    Link,
    Guid,
    AtomId,
    Description,
    AtomSummary,
    DcDescription,
    ItunesSummary,
    MediaDescription,
    ContentEncoded,
    AtomContent,
    XhtmlBody,
    Body,
    Fullitem,
    PubDate,
    Published,
    DcDate,
    DcTermsIssued,
    DcTermsCreated,
    Updated,
    DcTermsModified,
    Author,
    AuthorName,
    AuthorEmail,
    DcCreator,
    DcAuthor,
    ItunesAuthor,
}

/// First found wins, in this order.
const TITLE: &[Field] = &[Field::Title, Field::DcTitle, Field::MediaTitle];
const SUMMARY: &[Field] = &[
    Field::Description,
    Field::AtomSummary,
    Field::DcDescription,
    Field::ItunesSummary,
    Field::MediaDescription,
];
const CONTENT: &[Field] = &[
    Field::ContentEncoded,
    Field::AtomContent,
    Field::XhtmlBody,
    Field::Body,
    Field::Fullitem,
];
const PUBLISHED: &[Field] = &[
    Field::PubDate,
    Field::Published,
    Field::DcDate,
    Field::DcTermsIssued,
    Field::DcTermsCreated,
];
const UPDATED: &[Field] = &[Field::Updated, Field::DcTermsModified];
/// Author sources; Atom's `<author>` is read through its `name` (else `email`).
const AUTHORS: &[Field] = &[
    Field::Author,
    Field::DcCreator,
    Field::DcAuthor,
    Field::ItunesAuthor,
];

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    /// `<channel>` or Atom's `<feed>`: feed-level fields live under it.
    Channel,
    Entry,
    /// Atom `<author>` (its `name` and `email` are entry fields).
    Author,
    /// `media:group`/`media:content`: their `media:title`/`media:description` count.
    MediaGroup,
    /// Skipped with everything inside (Atom `<source>`: another feed's metadata).
    Skip,
}

/// How far down the open elements an end tag searches for its match (besides the field's, the
/// entry's and the outermost [`OUTER`]).
const MAX_IMPLIED_ENDS: usize = 256;
/// The outermost elements (`rss`, `channel` …) an end tag may always close.
const OUTER: usize = 4;

struct Frame {
    /// The name as written, to match its end tag.
    qname: Box<str>,
    role: Role,
    /// The `xml:base` in effect, when any element up to here set one.
    base: Option<Rc<Url>>,
}

/// A field element being read: its text, and its markup once it has child elements.
struct Capture {
    field: Target,
    depth: usize,
    text: String,
    /// Set at the first child element: the inner markup, text escaped.
    markup: Option<String>,
    /// Nesting below the captured element, for the XHTML `div` wrapper.
    inner_depth: usize,
    /// Top-level children seen, the first one's name, and whether top-level text was seen.
    top_children: usize,
    first_top: Option<Box<str>>,
    /// The first top-level child is in the XHTML namespace.
    first_top_xhtml: bool,
    top_text: bool,
    /// The element's text is HTML source (RSS `description`, Atom `type="html"` …): inside
    /// its markup, text stays as written; in any other element it is escaped.
    html_source: bool,
    /// Byte offsets in `markup` just after the first top-level start tag and just before the
    /// last top-level end tag: the wrapper `div`'s contents.
    wrapper: (usize, usize),
    attrs: TextAttrs,
    base: Option<Rc<Url>>,
}

/// Where a capture goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Entry(Field),
    FeedTitle,
    FeedLink,
    FeedTtl,
}

/// The attributes of a text element that decide how its text is read.
#[derive(Debug, Clone, Default)]
struct TextAttrs {
    /// Atom `type` (or `media:*` `type`), lower-cased.
    ty: Option<String>,
    /// Atom 0.3 `mode`, lower-cased.
    mode: Option<String>,
}

/// A finished field value.
#[derive(Debug, Clone)]
struct Value {
    /// For ids, links, dates and names ([`Rule::Text`]) the plain text as written.
    text: RawText,
    /// The `xml:base` in effect on the element.
    base: Option<Rc<Url>>,
}

#[derive(Default)]
struct EntryBuild {
    /// Depth of the entry's element (1 is the root).
    depth: usize,
    fields: Vec<(Field, Value)>,
    /// Atom links: rel, resolved href, type.
    links: Vec<(String, String, Option<String>)>,
    /// RSS 1.0 `rdf:about`.
    about: Option<String>,
    /// CDF (Microsoft's Channel Definition Format) `<item href=… lastmod=…>`.
    cdf_href: Option<String>,
    cdf_lastmod: Option<String>,
    /// Atom authors: name, email (one pair per `<author>`).
    atom_authors: Vec<(Option<String>, Option<String>)>,
    base: Option<Rc<Url>>,
}

impl EntryBuild {
    fn all(&self, field: Field) -> impl DoubleEndedIterator<Item = &Value> {
        self.fields
            .iter()
            .filter(move |(g, _)| *g == field)
            .map(|(_, v)| v)
    }
}

#[derive(Default)]
struct FeedBuild {
    title: Option<String>,
    link: Option<String>,
    atom_links: Vec<(String, String, Option<String>)>,
    ttl: Option<u32>,
}

/// Reads an XML feed document. `doc_url` is where it came from (the base of relative links).
/// `utf8_source`: the bytes were UTF-8, so UTF-8 read as Latin-1 inside a text is repaired.
pub fn read(text: &str, doc_url: &Url, utf8_source: bool) -> Result<ParsedFeed, XmlError> {
    let mut r = Reader {
        doc_url,
        utf8_source,
        stack: Vec::new(),
        dialect: None,
        entry: None,
        capture: None,
        skip_below: None,
        feed: FeedBuild::default(),
        entries: Vec::new(),
    };
    let mut xml = NsReader::from_str(text);
    let config = xml.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut first_error: Option<String> = None;
    let mut errors = 0;
    let mut last_pos = u64::MAX;
    loop {
        let pos = xml.buffer_position();
        match xml.read_resolved_event() {
            Ok((ns, event)) => {
                let ns = match ns {
                    ResolveResult::Bound(uri) => ns_of_uri(uri.as_ref()),
                    ResolveResult::Unbound => Ns::Rss,
                    ResolveResult::Unknown(prefix) => ns_of_prefix(&prefix),
                };
                match event {
                    Event::Start(e) => r.start(ns, &e)?,
                    Event::Empty(e) => {
                        r.start(ns, &e)?;
                        r.end_top();
                    }
                    Event::End(e) => {
                        let name = e.name().as_ref().to_string();
                        r.end(&name);
                    }
                    Event::Text(t) => r.text(&t.xml10_content()),
                    Event::CData(t) => r.text(&t.xml10_content()),
                    Event::GeneralRef(g) => r.reference(&g),
                    Event::Eof => break,
                    _ => {}
                }
            }
            Err(e) => {
                errors += 1;
                if first_error.is_none() {
                    first_error = Some(format!("{e} (at byte {})", xml.error_position()));
                }
                // An error that did not move the reader on, or too many, end the document.
                if xml.buffer_position() == pos || pos == last_pos || errors > 1_000 {
                    break;
                }
                last_pos = pos;
            }
        }
    }

    let Some(dialect) = r.dialect else {
        return Err(XmlError::Malformed(
            first_error.unwrap_or_else(|| "no root element".to_string()),
        ));
    };
    // The document ended with elements still open: it was cut off. What was complete stays;
    // when nothing was, the document is an error.
    let inside = r.stack.last().map(|f| f.qname.to_string());
    if let Some(inside) = &inside
        && r.entries.is_empty()
    {
        return Err(XmlError::Malformed(format!(
            "the document ends inside <{inside}>, before any entry was complete{}",
            first_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )));
    }
    let truncated = inside.map(|inside| {
        let n = r.entries.len();
        format!(
            "truncated after {n} entr{}: the document ends inside <{inside}>{}",
            if n == 1 { "y" } else { "ies" },
            first_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )
    });
    let site_url = pick_link(&r.feed.atom_links).or(r.feed.link);
    let mut repairs = Vec::new();
    if errors > 0 && truncated.is_none() {
        repairs.push("markup");
    }
    Ok(ParsedFeed {
        format: dialect.format().to_string(),
        title: r.feed.title,
        site_url,
        ttl: r.feed.ttl,
        entries: r.entries,
        repairs,
        truncated,
    })
}

struct Reader<'a> {
    doc_url: &'a Url,
    utf8_source: bool,
    stack: Vec<Frame>,
    dialect: Option<Dialect>,
    entry: Option<EntryBuild>,
    capture: Option<Capture>,
    /// Inside a skipped element: the depth at which skipping ends.
    skip_below: Option<usize>,
    feed: FeedBuild,
    entries: Vec<RawEntry>,
}

impl Reader<'_> {
    fn start(&mut self, ns: Ns, e: &BytesStart) -> Result<(), XmlError> {
        let qname: Box<str> = e.name().as_ref().into();
        let local_raw = e.local_name().as_ref().to_string();
        let local = local_raw.to_ascii_lowercase();
        let parent = self.stack.last();
        let parent_role = parent.map_or(Role::Other, |f| f.role);
        let parent_base = parent.and_then(|f| f.base.clone());
        let base = match attr(e, "xml:base") {
            Some(b) => {
                let from = parent_base.as_deref().unwrap_or(self.doc_url);
                from.join(b.trim()).ok().map(Rc::new).or(parent_base)
            }
            None => parent_base,
        };
        let depth = self.stack.len() + 1;

        // Inside a captured field: its markup.
        if let Some(c) = self.capture.as_mut() {
            c.open_child(&local_raw, e, ns == Ns::Xhtml);
            self.stack.push(Frame {
                qname,
                role: Role::Other,
                base,
            });
            return Ok(());
        }
        if self.skip_below.is_some() {
            self.stack.push(Frame {
                qname,
                role: Role::Skip,
                base,
            });
            return Ok(());
        }

        let mut role = Role::Other;
        match self.dialect {
            None => {
                self.dialect = Some(match (ns, local.as_str()) {
                    (_, "rss") => Dialect::Rss,
                    (Ns::Rdf | Ns::Rss | Ns::Other, "rdf") => Dialect::Rdf,
                    (Ns::Atom03, "feed") => Dialect::Atom03,
                    (_, "feed") if attr(e, "version").is_some_and(|v| v.trim() == "0.3") => {
                        Dialect::Atom03
                    }
                    (_, "feed") => Dialect::Atom,
                    // An Atom entry document (RFC 4287 §4.1.2): one entry, no feed around it.
                    (Ns::Atom | Ns::Atom03, "entry") => Dialect::Atom,
                    (_, "channel") => Dialect::Rss,
                    _ => return Err(XmlError::NotAFeed(qname.to_string())),
                });
                if local == "entry" {
                    role = Role::Entry;
                    self.entry = Some(EntryBuild {
                        depth,
                        base: base.clone(),
                        ..Default::default()
                    });
                } else if local == "feed" || local == "channel" {
                    role = Role::Channel;
                }
            }
            Some(dialect) => {
                if let Some(entry) = self.entry.as_mut() {
                    role = entry_child(
                        dialect,
                        entry,
                        parent_role,
                        ns,
                        &local,
                        e,
                        depth,
                        base.clone(),
                        self.doc_url,
                        &mut self.capture,
                    );
                    if role == Role::Skip {
                        self.skip_below = Some(depth);
                    }
                } else if is_entry(dialect, ns, &local) {
                    role = Role::Entry;
                    let about = (dialect == Dialect::Rdf)
                        .then(|| attr_local(e, "about"))
                        .flatten()
                        .map(|a| resolve(a.trim(), base.as_deref(), self.doc_url));
                    let resolve_attr = |name: &str| {
                        attr(e, name).and_then(|v| resolve(v.trim(), base.as_deref(), self.doc_url))
                    };
                    self.entry = Some(EntryBuild {
                        depth,
                        about: about.flatten(),
                        cdf_href: resolve_attr("href"),
                        cdf_lastmod: attr(e, "lastmod"),
                        base: base.clone(),
                        ..Default::default()
                    });
                } else if local == "channel" {
                    role = Role::Channel;
                } else if parent_role == Role::Channel {
                    self.feed_child(ns, &local, e, depth, base.clone());
                }
            }
        }
        self.stack.push(Frame { qname, role, base });
        Ok(())
    }

    fn feed_child(
        &mut self,
        ns: Ns,
        local: &str,
        e: &BytesStart,
        depth: usize,
        base: Option<Rc<Url>>,
    ) {
        let target = match (ns, local) {
            (Ns::Rss | Ns::Rss1 | Ns::Atom | Ns::Atom03, "title") => Target::FeedTitle,
            (Ns::Rss | Ns::Rss1, "link") => Target::FeedLink,
            (Ns::Atom | Ns::Atom03, "link") => {
                if let Some(l) = atom_link(e, base.as_deref(), self.doc_url) {
                    self.feed.atom_links.push(l);
                }
                return;
            }
            (Ns::Rss, "ttl") => Target::FeedTtl,
            _ => return,
        };
        self.capture = Some(Capture::new(target, depth, e, base));
    }

    fn text(&mut self, text: &str) {
        if let Some(c) = self.capture.as_mut() {
            c.push_text(text);
        }
    }

    fn reference(&mut self, g: &quick_xml::events::BytesRef) {
        let Some(c) = self.capture.as_mut() else {
            return;
        };
        let name: &str = g;
        match resolve_reference(name) {
            Some(s) => c.push_text(&s),
            // Unknown (a DTD's, never expanded): kept as written.
            None => c.push_text(&format!("&{name};")),
        }
    }

    /// The end of the element on top of the stack (an empty element).
    fn end_top(&mut self) {
        if let Some(frame) = self.stack.pop() {
            self.close(frame);
        }
    }

    fn end(&mut self, name: &str) {
        // The innermost open element with this name closes, with what is open inside it; an
        // end tag that matches nothing open is dropped. Only the innermost elements, the
        // field's, the entry's and the outermost few are searched, so that a hostile document
        // (50,000 opened, 50,000 stray end tags) costs linear time.
        let len = self.stack.len();
        let floor = len.saturating_sub(MAX_IMPLIED_ENDS);
        let is = |i: usize| &*self.stack[i].qname == name;
        let Some(at) = (floor..len)
            .rev()
            .find(|&i| is(i))
            .or_else(|| {
                let field = self.capture.as_ref().map(|c| c.depth - 1);
                let entry = self.entry.as_ref().map(|e| e.depth - 1);
                [field, entry]
                    .into_iter()
                    .flatten()
                    .find(|&i| i < floor && is(i))
            })
            .or_else(|| (0..floor.min(OUTER)).rev().find(|&i| is(i)))
        else {
            return;
        };
        while self.stack.len() > at {
            let frame = self.stack.pop().expect("non-empty");
            self.close(frame);
        }
    }

    fn close(&mut self, frame: Frame) {
        let depth = self.stack.len() + 1;
        if let Some(skip) = self.skip_below {
            if depth == skip {
                self.skip_below = None;
            }
            return;
        }
        if let Some(c) = self.capture.as_mut() {
            if depth > c.depth {
                c.close_child(&frame.qname);
                return;
            }
            let c = self.capture.take().expect("checked");
            self.finish_capture(c);
            return;
        }
        if frame.role == Role::Entry
            && let Some(entry) = self.entry.take()
        {
            let raw = self.finish_entry(entry);
            self.entries.push(raw);
        }
    }

    fn finish_capture(&mut self, c: Capture) {
        let target = c.field;
        let value = c.finish(self.utf8_source);
        match target {
            Target::FeedTitle => {
                if self.feed.title.is_none() {
                    self.feed.title = Some(value.text.text);
                }
            }
            Target::FeedLink => {
                if self.feed.link.is_none() {
                    self.feed.link =
                        resolve(value.text.text.trim(), value.base.as_deref(), self.doc_url);
                }
            }
            Target::FeedTtl => self.feed.ttl = value.text.text.trim().parse().ok(),
            Target::Entry(field) => {
                if let Some(entry) = self.entry.as_mut() {
                    match field {
                        Field::AuthorName | Field::AuthorEmail => {
                            let v = value.text.text.trim().to_string();
                            if let Some(last) = entry.atom_authors.last_mut() {
                                let slot = if field == Field::AuthorName {
                                    &mut last.0
                                } else {
                                    &mut last.1
                                };
                                if slot.is_none() && !v.is_empty() {
                                    *slot = Some(v);
                                }
                            }
                        }
                        _ => entry.fields.push((field, value)),
                    }
                }
            }
        }
    }

    fn finish_entry(&self, e: EntryBuild) -> RawEntry {
        let id = [Field::Guid, Field::AtomId]
            .iter()
            .find_map(|f| {
                e.all(*f)
                    .map(|v| v.text.text.trim())
                    .rfind(|s| !s.is_empty())
            })
            .map(str::to_string)
            .or_else(|| e.about.clone());
        let link = pick_link(&e.links)
            .or_else(|| {
                e.all(Field::Link)
                    .find_map(|v| resolve(v.text.text.trim(), v.base.as_deref(), self.doc_url))
            })
            .or_else(|| {
                // A guid that is a URL is the permalink when there is no link.
                e.all(Field::Guid).find_map(|v| {
                    Url::parse(v.text.text.trim())
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .map(String::from)
                })
            })
            .or_else(|| e.about.clone().filter(|a| a.starts_with("http")))
            .or_else(|| e.cdf_href.clone());
        let date = |sources: &[Field]| {
            // A field given twice: the later one, as feedparser reads it.
            sources.iter().find_map(|f| {
                e.all(*f)
                    .rev()
                    .find_map(|v| date::parse(v.text.text.trim()))
            })
        };
        let mut authors: Vec<String> = e
            .atom_authors
            .iter()
            .filter_map(|(name, email)| name.clone().or_else(|| email.clone()))
            .collect();
        if authors.is_empty() {
            authors = AUTHORS
                .iter()
                .map(|f| {
                    e.all(*f)
                        .filter_map(|v| person_name(&v.text.text))
                        .collect::<Vec<_>>()
                })
                .find(|names| !names.is_empty())
                .unwrap_or_default();
        }
        authors.dedup();
        let text_of = |sources: &[Field]| {
            sources.iter().find_map(|f| {
                e.all(*f)
                    .rfind(|v| !v.text.text.trim().is_empty())
                    .map(|v| v.text.clone())
            })
        };
        RawEntry {
            id,
            title: text_of(TITLE),
            link,
            summary: text_of(SUMMARY),
            content: text_of(CONTENT),
            published: date(PUBLISHED),
            updated: date(UPDATED).or_else(|| e.cdf_lastmod.as_deref().and_then(date::parse)),
            authors,
            base: e.base.as_deref().map(|u| u.to_string()),
        }
    }
}

/// Whether this element starts an entry in this dialect.
fn is_entry(dialect: Dialect, ns: Ns, local: &str) -> bool {
    match dialect {
        Dialect::Rss | Dialect::Rdf => local == "item" && matches!(ns, Ns::Rss | Ns::Rss1),
        Dialect::Atom | Dialect::Atom03 => {
            local == "entry" && matches!(ns, Ns::Atom | Ns::Atom03 | Ns::Rss)
        }
    }
}

/// A child of an entry (or of a container inside one): starts a capture, records a link, or
/// opens a container. Returns the role of the new element.
#[allow(clippy::too_many_arguments)]
fn entry_child(
    dialect: Dialect,
    entry: &mut EntryBuild,
    parent_role: Role,
    ns: Ns,
    local: &str,
    e: &BytesStart,
    depth: usize,
    base: Option<Rc<Url>>,
    doc_url: &Url,
    capture: &mut Option<Capture>,
) -> Role {
    let atomish = matches!(ns, Ns::Atom | Ns::Atom03)
        || (ns == Ns::Rss && matches!(dialect, Dialect::Atom | Dialect::Atom03));
    let rssish = matches!(ns, Ns::Rss | Ns::Rss1);
    let field = match parent_role {
        Role::Entry => match local {
            "title" if rssish || atomish => Field::Title,
            "link" if atomish => {
                if let Some(l) = atom_link(e, base.as_deref(), doc_url) {
                    entry.links.push(l);
                }
                return Role::Other;
            }
            "link" if rssish => Field::Link,
            "guid" if rssish => Field::Guid,
            "id" if atomish => Field::AtomId,
            "description" | "abstract" if rssish => Field::Description,
            "summary" if atomish => Field::AtomSummary,
            "content" if atomish => Field::AtomContent,
            "pubdate" if rssish => Field::PubDate,
            "published" | "issued" if atomish => Field::Published,
            "updated" | "modified" if atomish || rssish => Field::Updated,
            "author" if atomish => {
                entry.atom_authors.push((None, None));
                return Role::Author;
            }
            "author" if rssish => Field::Author,
            "source" if atomish => return Role::Skip,
            "body" if rssish => Field::Body,
            "fullitem" if rssish => Field::Fullitem,
            "encoded" if ns == Ns::Content => Field::ContentEncoded,
            "body" if ns == Ns::Xhtml => Field::XhtmlBody,
            "title" if ns == Ns::Dc => Field::DcTitle,
            "description" if ns == Ns::Dc => Field::DcDescription,
            "date" if ns == Ns::Dc => Field::DcDate,
            "creator" if ns == Ns::Dc => Field::DcCreator,
            "author" if ns == Ns::Dc => Field::DcAuthor,
            "issued" if ns == Ns::DcTerms => Field::DcTermsIssued,
            "created" if ns == Ns::DcTerms => Field::DcTermsCreated,
            "modified" if ns == Ns::DcTerms => Field::DcTermsModified,
            "summary" if ns == Ns::Itunes => Field::ItunesSummary,
            "author" if ns == Ns::Itunes => Field::ItunesAuthor,
            "title" if ns == Ns::Media => Field::MediaTitle,
            "description" if ns == Ns::Media => Field::MediaDescription,
            "group" | "content" if ns == Ns::Media => return Role::MediaGroup,
            _ => return Role::Other,
        },
        Role::Author => match local {
            "name" => Field::AuthorName,
            "email" => Field::AuthorEmail,
            _ => return Role::Other,
        },
        Role::MediaGroup => match local {
            "title" if ns == Ns::Media => Field::MediaTitle,
            "description" if ns == Ns::Media => Field::MediaDescription,
            "content" | "group" if ns == Ns::Media => return Role::MediaGroup,
            _ => return Role::Other,
        },
        _ => return Role::Other,
    };
    *capture = Some(Capture::new(Target::Entry(field), depth, e, base));
    Role::Other
}

impl Capture {
    fn new(field: Target, depth: usize, e: &BytesStart, base: Option<Rc<Url>>) -> Capture {
        let lower = |s: Option<String>| s.map(|v| v.trim().to_ascii_lowercase());
        let attrs = TextAttrs {
            ty: lower(attr(e, "type")),
            mode: lower(attr(e, "mode")),
        };
        let html_source = match field {
            Target::Entry(f) => match text_rule(f) {
                Rule::Html => true,
                Rule::Atom | Rule::Media => {
                    matches!(attrs.ty.as_deref(), Some("html" | "text/html"))
                        || attrs.mode.as_deref() == Some("escaped")
                }
                Rule::Plain | Rule::Text => false,
            },
            _ => false,
        };
        Capture {
            html_source,
            first_top_xhtml: false,
            field,
            depth,
            text: String::new(),
            markup: None,
            inner_depth: 0,
            top_children: 0,
            first_top: None,
            top_text: false,
            wrapper: (0, 0),
            attrs,
            base,
        }
    }

    fn push_text(&mut self, text: &str) {
        if self.inner_depth == 0 && !text.trim().is_empty() {
            self.top_text = true;
        }
        self.text.push_str(text);
        if let Some(m) = self.markup.as_mut() {
            if self.html_source {
                m.push_str(text);
            } else {
                m.push_str(&crate::text::escape_html(text));
            }
        }
    }

    fn open_child(&mut self, local: &str, e: &BytesStart, xhtml: bool) {
        let (text, html_source) = (&self.text, self.html_source);
        let markup = self.markup.get_or_insert_with(|| match html_source {
            true => text.clone(),
            false => crate::text::escape_html(text),
        });
        if self.inner_depth == 0 {
            self.top_children += 1;
            if self.first_top.is_none() {
                self.first_top = Some(local.to_ascii_lowercase().into());
                self.first_top_xhtml = xhtml;
            }
        }
        markup.push('<');
        markup.push_str(local);
        for a in e.attributes().with_checks(false).flatten() {
            let key = a.key.as_ref();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let key = key.rsplit(':').next().unwrap_or(key).to_string();
            let value = attr_value(&a);
            markup.push(' ');
            markup.push_str(&key);
            markup.push_str("=\"");
            markup.push_str(&crate::text::escape_html(&value));
            markup.push('"');
        }
        markup.push('>');
        if self.inner_depth == 0 && self.top_children == 1 {
            self.wrapper.0 = markup.len();
        }
        self.inner_depth += 1;
    }

    fn close_child(&mut self, qname: &str) {
        let local = qname.rsplit(':').next().unwrap_or(qname);
        self.inner_depth = self.inner_depth.saturating_sub(1);
        if !is_void(local) {
            if self.inner_depth == 0 {
                self.wrapper.1 = self.markup.as_ref().map_or(0, String::len);
            }
            self.close_markup(local);
        }
    }

    fn close_markup(&mut self, local: &str) {
        if let Some(m) = self.markup.as_mut() {
            m.push_str("</");
            m.push_str(local);
            m.push('>');
        }
    }

    /// The field's value, read by its element's rules.
    fn finish(self, utf8_source: bool) -> Value {
        let repair = |s: String| mojibake::repair(s, utf8_source);
        let Target::Entry(field) = self.field else {
            // Feed-level fields: the text, with markup read as text.
            let text = repair(self.text);
            return Value {
                text: RawText {
                    text,
                    kind: TextKind::Plain,
                    base: None,
                },
                base: self.base,
            };
        };
        let base = self.base.clone();
        let (text, kind) = match text_rule(field) {
            Rule::Text => (self.text, TextKind::Plain),
            Rule::Atom => self.atom_text(),
            Rule::Plain => match self.markup {
                Some(m) => (m, TextKind::Html),
                None => (self.text, TextKind::Plain),
            },
            Rule::Html => match self.markup {
                Some(m) => (m, TextKind::Html),
                None => (self.text, TextKind::Html),
            },
            Rule::Media => {
                let html = self.attrs.ty.as_deref() == Some("html");
                match self.markup {
                    Some(m) => (m, TextKind::Html),
                    None if html => (self.text, TextKind::Html),
                    None => (self.text, TextKind::Plain),
                }
            }
        };
        Value {
            text: RawText {
                text: repair(text),
                kind,
                base: base.as_deref().map(Url::to_string),
            },
            base,
        }
    }

    /// An Atom text construct: `type` (RFC 4287 §3.1, and the MIME types Atom 0.3 used) and
    /// 0.3's `mode`.
    fn atom_text(self) -> (String, TextKind) {
        let ty = self
            .attrs
            .ty
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("text");
        let mode = self.attrs.mode.as_deref();
        let kind = match ty {
            "html" | "text/html" => TextKind::Html,
            "xhtml" | "application/xhtml+xml" => TextKind::Html,
            t if t == "text" || t.starts_with("text/") => TextKind::Plain,
            t if t.ends_with("xml") => TextKind::Html,
            _ => TextKind::Plain,
        };
        // Base64: 0.3's mode="base64", or 1.0 content of a type that is neither text nor XML.
        let binary = !(ty == "text"
            || ty == "html"
            || ty == "xhtml"
            || ty.starts_with("text/")
            || ty.ends_with("xml"));
        if mode == Some("base64") || (binary && self.markup.is_none() && mode != Some("escaped")) {
            use base64::Engine;
            let compact: String = self.text.split_whitespace().collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
            {
                return (String::from_utf8_lossy(&bytes).into_owned(), kind);
            }
            return (self.text, kind);
        }
        match self.markup {
            Some(m) => {
                // XHTML: the wrapper div (RFC 4287 §3.1.1.3) is not part of the content; nor is
                // an XHTML div wrapped around escaped HTML (Typepad's `type="html"`). Atom 0.3's
                // inline XML had no such wrapper: there a plain div is content.
                let only_div = (ty == "xhtml" || (self.html_source && self.first_top_xhtml))
                    && self.top_children == 1
                    && !self.top_text
                    && self.first_top.as_deref() == Some("div");
                let inner = if only_div && self.wrapper.1 >= self.wrapper.0 {
                    m[self.wrapper.0..self.wrapper.1].to_string()
                } else {
                    m
                };
                (inner, TextKind::Html)
            }
            None if kind == TextKind::Html
                && (ty == "xhtml" || ty.ends_with("xml"))
                && mode != Some("escaped") =>
            {
                // Inline XML with no elements: its text, escaped, is the HTML.
                (crate::text::escape_html(&self.text), TextKind::Html)
            }
            None => (self.text, kind),
        }
    }
}

enum Rule {
    /// Ids, links, dates, names: the text, any markup in it dropped.
    Text,
    /// Atom text construct: `type` and `mode` decide.
    Atom,
    /// Plain text, unless markup was written straight into it.
    Plain,
    /// HTML (escaped, in CDATA, or written straight in).
    Html,
    /// `media:*`: `type="html"` or plain.
    Media,
}

fn text_rule(field: Field) -> Rule {
    match field {
        Field::AtomSummary | Field::AtomContent => Rule::Atom,
        Field::Title => Rule::Atom,
        Field::Description
        | Field::DcDescription
        | Field::ContentEncoded
        | Field::XhtmlBody
        | Field::Body
        | Field::Fullitem => Rule::Html,
        Field::MediaTitle | Field::MediaDescription => Rule::Media,
        Field::DcTitle | Field::ItunesSummary => Rule::Plain,
        Field::Link
        | Field::Guid
        | Field::AtomId
        | Field::PubDate
        | Field::Published
        | Field::DcDate
        | Field::DcTermsIssued
        | Field::DcTermsCreated
        | Field::Updated
        | Field::DcTermsModified
        | Field::Author
        | Field::AuthorName
        | Field::AuthorEmail
        | Field::DcCreator
        | Field::DcAuthor
        | Field::ItunesAuthor => Rule::Text,
    }
}

/// HTML void elements: written without an end tag.
fn is_void(local: &str) -> bool {
    matches!(
        local.to_ascii_lowercase().as_str(),
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// An attribute by its name as written (`xml:base`, `type`), its references resolved.
fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref().eq_ignore_ascii_case(name))
        .map(|a| attr_value(&a))
}

/// An attribute by its local name, whatever its prefix (`rdf:about`).
fn attr_local(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(local))
        .map(|a| attr_value(&a))
}

/// An attribute's value with its references resolved as in text; as written when one of them
/// cannot be.
fn attr_value(a: &quick_xml::events::attributes::Attribute) -> String {
    a.normalized_value_with(quick_xml::XmlVersion::Implicit1_0, 1, named_entity)
        .map(Cow::into_owned)
        .unwrap_or_else(|_| a.value.to_string())
}

/// An Atom `<link>`: rel (default `alternate`), resolved href, type.
fn atom_link(
    e: &BytesStart,
    base: Option<&Url>,
    doc_url: &Url,
) -> Option<(String, String, Option<String>)> {
    let href = attr(e, "href")?;
    let href = resolve(href.trim(), base, doc_url)?;
    let rel = attr(e, "rel").map_or_else(
        || "alternate".to_string(),
        |r| r.trim().to_ascii_lowercase(),
    );
    let ty = attr(e, "type").map(|t| t.trim().to_ascii_lowercase());
    Some((rel, href, ty))
}

/// The entry's (or feed's) page among Atom links: `alternate` of an HTML type (or none) first,
/// then any `alternate`, then any link that is not feed plumbing.
fn pick_link(links: &[(String, String, Option<String>)]) -> Option<String> {
    let alternate = |(rel, _, _): &&(String, String, Option<String>)| rel == "alternate";
    links
        .iter()
        .filter(alternate)
        .find(|(_, _, ty)| ty.as_deref().is_none_or(|t| t.contains("html")))
        .or_else(|| links.iter().find(alternate))
        .or_else(|| {
            links.iter().find(|(rel, _, _)| {
                !matches!(
                    rel.as_str(),
                    "self"
                        | "enclosure"
                        | "edit"
                        | "replies"
                        | "hub"
                        | "next"
                        | "prev"
                        | "license"
                        | "via"
                        | "edit-media"
                        | "previous"
                        | "first"
                        | "last"
                )
            })
        })
        .map(|(_, href, _)| href.clone())
}

/// `href` as an absolute http(s) URL against the `xml:base` in effect, else the document's.
fn resolve(href: &str, base: Option<&Url>, doc_url: &Url) -> Option<String> {
    if href.is_empty() {
        return None;
    }
    let url = base.unwrap_or(doc_url).join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// A reference's text: numeric (decimal or hex, either case of `x`), the five XML entities,
/// or an HTML named entity. `None` for anything else (a DTD's own entities are not expanded).
fn resolve_reference(name: &str) -> Option<Cow<'static, str>> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        let c = match code {
            0 => '\u{fffd}',
            // Windows-1252 code points written as references (`&#146;`) mean their characters.
            0x80..=0x9f => html5ever::data::C1_REPLACEMENTS[(code - 0x80) as usize]
                .unwrap_or(char::from_u32(code)?),
            _ => char::from_u32(code).unwrap_or('\u{fffd}'),
        };
        return Some(Cow::Owned(c.to_string()));
    }
    named_entity(name).map(Cow::Borrowed)
}

/// The XML and HTML named entities (`amp`, `eacute`, `nbsp` …), by name without `&` and `;`.
fn named_entity(name: &str) -> Option<&'static str> {
    if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
        return Some(s);
    }
    /// HTML's table (from html5ever, which keys it with the `;` and also lists prefixes),
    /// built once.
    static HTML: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
        html5ever::data::NAMED_ENTITIES
            .entries()
            .filter_map(|(key, &(a, b))| {
                let name = key.strip_suffix(';')?;
                let mut text: String = char::from_u32(a).filter(|_| a != 0)?.into();
                text.extend(char::from_u32(b).filter(|_| b != 0));
                Some((name, text))
            })
            .collect()
    });
    HTML.get(name).map(String::as_str)
}

/// A person's name from an author text: `email (Name)`, `Name (email)`, `Name <email>` give
/// the name; a bare address stays the address.
pub fn person_name(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let is_email = |s: &str| {
        let s = s.trim().trim_start_matches("mailto:");
        s.contains('@') && !s.contains(char::is_whitespace)
    };
    if let Some(open) = t.find('(')
        && t.ends_with(')')
    {
        let (outside, inside) = (t[..open].trim(), t[open + 1..t.len() - 1].trim());
        if is_email(outside) && !inside.is_empty() {
            return Some(inside.to_string());
        }
        if is_email(inside) && !outside.is_empty() {
            return Some(outside.to_string());
        }
    }
    if let Some(open) = t.find('<')
        && t.ends_with('>')
    {
        let (outside, inside) = (t[..open].trim(), &t[open + 1..t.len() - 1]);
        if is_email(inside) && !outside.is_empty() {
            return Some(outside.trim_matches('"').to_string());
        }
    }
    Some(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_url() -> Url {
        Url::parse("https://blog.example/feed.xml").unwrap()
    }

    fn read_ok(doc: &str) -> ParsedFeed {
        read(doc, &doc_url(), true).unwrap()
    }

    fn one(doc: &str) -> RawEntry {
        let mut f = read_ok(doc);
        assert_eq!(f.entries.len(), 1, "{doc}");
        f.entries.remove(0)
    }

    fn text(t: &Option<RawText>) -> (&str, TextKind) {
        let t = t.as_ref().expect("a text");
        (t.text.as_str(), t.kind)
    }

    #[test]
    fn rss_versions_and_shapes_are_read() {
        for doc in [
            "<rss><channel><item><title>a</title></item></channel></rss>",
            "<rss version='0.94' xmlns:a='b'><channel><item><title>a</title></item></channel></rss>",
            "<rss version=\"2.0\"><item><title>a</title></item></rss>",
            "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel><item><title>a</title></item></channel></rss>",
        ] {
            assert_eq!(text(&one(doc).title), ("a", TextKind::Plain), "{doc}");
        }
        assert_eq!(read_ok("<rss/>").entries.len(), 0);
    }

    #[test]
    fn atom_text_constructs_follow_type_and_mode() {
        let e = one(r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <title type="text/plain">a &amp; b</title>
            <summary type="html">&lt;b&gt;x&lt;/b&gt;</summary>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Hello <b>there</b></div></content>
            </entry></feed>"#);
        assert_eq!(text(&e.title), ("a & b", TextKind::Plain));
        assert_eq!(text(&e.summary), ("<b>x</b>", TextKind::Html));
        assert_eq!(text(&e.content), ("Hello <b>there</b>", TextKind::Html));
    }

    #[test]
    fn atom_03_modes_are_read() {
        let e = one(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>
            <title mode="base64">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>
            <issued>2004-01-01T00:00:00Z</issued><modified>2004-01-02T00:00:00Z</modified>
            <summary type="text/html" mode="escaped">&lt;p&gt;x&lt;/p&gt;</summary>
            <content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>inline</p></div></content>
            </entry></feed>"#,
        );
        assert_eq!(text(&e.title).0, "Example <b>Atom</b>");
        assert_eq!(text(&e.summary), ("<p>x</p>", TextKind::Html));
        // 0.3's inline XML had no wrapper div: a div there is content.
        assert_eq!(
            text(&e.content),
            ("<div><p>inline</p></div>", TextKind::Html)
        );
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2004-01-01T00:00:00+00:00"
        );
        assert_eq!(e.updated.unwrap().to_rfc3339(), "2004-01-02T00:00:00+00:00");
    }

    #[test]
    fn atom_1_base64_content_is_decoded() {
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
            <content type="application/octet-stream">SGVsbG8=</content></entry></feed>"#,
        );
        assert_eq!(text(&e.content).0, "Hello");
    }

    #[test]
    fn markup_written_into_a_text_element_is_kept_as_html() {
        let e = one(
            "<rss><channel><item><title>Example <b>Atom</b></title><description>a <i>b</i><br/>c</description></item></channel></rss>",
        );
        assert_eq!(text(&e.title), ("Example <b>Atom</b>", TextKind::Html));
        assert_eq!(text(&e.summary), ("a <i>b</i><br>c", TextKind::Html));
    }

    #[test]
    fn rss_descriptions_are_escaped_html() {
        // The Pinboard case: an RSS 1.0 bookmark whose description is escaped HTML.
        let e = one(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <item rdf:about="http://x.example/b/1"><title>t</title>
            <description>Hello &lt;b&gt;bold&lt;/b&gt; and &lt;a href="http://x.example/"&gt;link&lt;/a&gt;</description></item></rdf:RDF>"#,
        );
        assert_eq!(
            text(&e.summary),
            (
                "Hello <b>bold</b> and <a href=\"http://x.example/\">link</a>",
                TextKind::Html
            )
        );
    }

    #[test]
    fn extension_elements_fill_what_the_usual_ones_lack() {
        let e = one(
            r#"<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><channel><item>
            <dc:title>DC title</dc:title><dc:description>DC text</dc:description>
            <dcterms:issued>2024-03-01T10:00:00Z</dcterms:issued><dcterms:modified>2024-03-02T10:00:00Z</dcterms:modified>
            <dc:creator>Ada</dc:creator></item></channel></rss>"#,
        );
        assert_eq!(text(&e.title).0, "DC title");
        assert_eq!(text(&e.summary).0, "DC text");
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2024-03-01T10:00:00+00:00"
        );
        assert_eq!(e.updated.unwrap().to_rfc3339(), "2024-03-02T10:00:00+00:00");
        assert_eq!(e.authors, ["Ada"]);
        // Undeclared prefixes, iTunes and Media RSS, an XHTML body.
        let e = one(
            r#"<rss><channel><item><media:group><media:title>M</media:title></media:group>
            <itunes:summary>Pod</itunes:summary><itunes:author>Host</itunes:author>
            <xhtml:body xmlns:xhtml="http://www.w3.org/1999/xhtml"><xhtml:p>Body</xhtml:p></xhtml:body></item></channel></rss>"#,
        );
        assert_eq!(text(&e.title).0, "M");
        assert_eq!(text(&e.summary), ("Pod", TextKind::Plain));
        assert_eq!(text(&e.content), ("<p>Body</p>", TextKind::Html));
        assert_eq!(e.authors, ["Host"]);
        // The usual element wins over the extension.
        let e = one(
            r#"<rss><channel><item><dc:title>second</dc:title><title>first</title></item></channel></rss>"#,
        );
        assert_eq!(text(&e.title).0, "first");
    }

    #[test]
    fn rss_1_items_without_a_link_are_kept_by_their_about() {
        let e = one(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <channel rdf:about="http://x.example/"><title>c</title></channel>
            <item rdf:about="http://x.example/p/1"><title>t</title></item></rdf:RDF>"#,
        );
        assert_eq!(e.id.as_deref(), Some("http://x.example/p/1"));
        assert_eq!(e.link.as_deref(), Some("http://x.example/p/1"));
    }

    #[test]
    fn xml_base_on_the_root_applies_to_links_and_html() {
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://other.example/dir/"><entry>
            <link href="post"/><content type="html" xml:base="sub/">&lt;a href="x"&gt;x&lt;/a&gt;</content></entry></feed>"#,
        );
        assert_eq!(e.link.as_deref(), Some("http://other.example/dir/post"));
        assert_eq!(
            e.content.as_ref().unwrap().base.as_deref(),
            Some("http://other.example/dir/sub/")
        );
        assert_eq!(e.base.as_deref(), Some("http://other.example/dir/"));
    }

    #[test]
    fn atom_links_prefer_the_html_alternate() {
        let e = one(r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <link rel="enclosure" href="/a.mp3"/><link rel="alternate" type="application/pdf" href="/a.pdf"/>
            <link href="/a.html"/></entry></feed>"#);
        assert_eq!(e.link.as_deref(), Some("https://blog.example/a.html"));
    }

    #[test]
    fn entities_are_read_as_html_reads_them_and_dtds_are_not_expanded() {
        let e = one(
            r#"<!DOCTYPE rss [<!ENTITY lol "lolol">]><rss><channel><item><title>caf&eacute; &#X41;&#146; &lol; AT&T</title></item></channel></rss>"#,
        );
        assert_eq!(text(&e.title).0, "café A\u{2019} &lol; AT&T");
    }

    #[test]
    fn authors_give_their_names() {
        for (written, name) in [
            ("me@example.com (Example Editor)", "Example Editor"),
            ("Example Editor (me@example.com)", "Example Editor"),
            ("Example Editor <me@example.com>", "Example Editor"),
            ("me@example.com", "me@example.com"),
        ] {
            assert_eq!(person_name(written).as_deref(), Some(name), "{written}");
        }
        let e = one(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
            <author><email>a@example.com</email></author><author><name>B</name></author></entry></feed>"#,
        );
        assert_eq!(e.authors, ["a@example.com", "B"]);
    }

    #[test]
    fn a_cut_off_document_keeps_its_complete_entries() {
        let f = read_ok(
            "<rss><channel><item><title>a</title></item><item><title>b</title></item><item><title>c</ti",
        );
        assert_eq!(f.entries.len(), 2);
        let why = f.truncated.unwrap();
        assert!(why.starts_with("truncated after 2 entries"), "{why}");
        // Nothing complete: an error that says so.
        let e = read("<rss><channel><item><title>a", &doc_url(), true).unwrap_err();
        assert_eq!(
            e,
            XmlError::Malformed(
                "the document ends inside <title>, before any entry was complete".into()
            )
        );
        // Only the root's end tag is cut: every entry was read, and the cut is still said.
        let f = read_ok("<rss><channel><item><title>a</title></item></channel></rss");
        assert_eq!(f.entries.len(), 1);
        assert!(f.truncated.is_some());
        // A whole document is not truncated.
        assert_eq!(
            read_ok("<rss><channel><item/></channel></rss>").truncated,
            None
        );
    }

    #[test]
    fn stray_and_mismatched_end_tags_do_not_lose_entries() {
        let f = read_ok(
            "<rss><channel><item><title>a</b></title></p></item><item><description>x<p>y</description></item></channel></rss>",
        );
        assert_eq!(f.entries.len(), 2);
        assert_eq!(text(&f.entries[0].title).0, "a");
        assert_eq!(text(&f.entries[1].summary).0, "x<p>y</p>");
    }

    #[test]
    fn thousands_of_unclosed_or_stray_tags_cost_nothing_and_lose_nothing() {
        let opened = "<span>".repeat(20_000);
        let stray = "</b>".repeat(20_000);
        let doc = format!(
            "<rss><channel><item><title>a</title><description>x{opened}y{stray}</description></item><item><title>b</title></item></channel></rss>"
        );
        let f = read_ok(&doc);
        assert_eq!(f.entries.len(), 2);
        assert_eq!(text(&f.entries[1].title).0, "b");
        assert!(text(&f.entries[0].summary).0.starts_with("x<span><span>"));
        assert_eq!(f.truncated, None);
    }

    #[test]
    fn the_root_decides() {
        assert_eq!(
            read("<html><body/></html>", &doc_url(), true).unwrap_err(),
            XmlError::NotAFeed("html".into())
        );
        assert_eq!(read_ok("<feed/>").format, "atom");
        // An Atom entry document is one entry.
        let f = read_ok(
            r#"<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:1</id><title>t</title></entry>"#,
        );
        assert_eq!(f.entries[0].id.as_deref(), Some("urn:1"));
        assert_eq!(
            read_ok("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>").format,
            "rss1"
        );
    }

    #[test]
    fn feed_level_title_link_and_ttl() {
        let f = read_ok(
            "<rss><channel><title>Blog</title><link>/</link><ttl>60</ttl><item><title>x</title></item></channel></rss>",
        );
        assert_eq!(f.title.as_deref(), Some("Blog"));
        assert_eq!(f.site_url.as_deref(), Some("https://blog.example/"));
        assert_eq!(f.ttl, Some(60));
        // An item's title is not the feed's.
        assert_eq!(
            read_ok("<rss><channel><item><title>x</title></item></channel></rss>").title,
            None
        );
    }
}
