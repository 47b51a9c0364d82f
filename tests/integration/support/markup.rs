//! An independent check for executable markup in HTML that gleaner produced. It does not share
//! code with gleaner's sanitizer: it tokenizes with html5ever and flags what a browser could
//! run or load as active content. Its own test proves it flags raw XSS vectors.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

const ACTIVE_ELEMENTS: &[&str] = &[
    "script",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "style",
    "link",
    "meta",
    "base",
    "svg",
    "math",
    "frame",
    "frameset",
    "template",
    "isindex",
    "keygen",
    "xss",
    "event-source",
    "vmlframe",
    "import",
];
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "xlink:href",
    "srcset",
    "code",
    "codebase",
    "dynsrc",
    "lowsrc",
    "cite",
    "longdesc",
    "usemap",
    "ping",
];
const ALLOWED_FRAME_HOSTS: &[&str] = &[
    "https://www.youtube.com/",
    "https://www.youtube-nocookie.com/",
    "https://youtube.com/",
    "https://player.vimeo.com/",
    "https://www.dailymotion.com/",
    "https://w.soundcloud.com/",
    "https://player.twitch.tv/",
    "https://www.slideshare.net/",
    "https://speakerdeck.com/",
];

#[derive(Default)]
struct Sink {
    findings: RefCell<Vec<String>>,
    /// Mail HTML carries its own inline styles (mail clients drop `<style>`): plain
    /// declarations pass, anything that loads, escapes or scripts does not.
    plain_styles: bool,
}

/// What may not appear in an inline style, even a gleaner-written one (values are compared
/// lower-cased, without whitespace).
const STYLE_MARKERS: &[&str] = &[
    "url(",
    "expression",
    "javascript",
    "@import",
    "behavior",
    "binding",
    "\\",
    "/*",
    "<",
];

impl TokenSink for Sink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            if tag.kind != TagKind::StartTag {
                return TokenSinkResult::Continue;
            }
            let name = tag.name.to_string();
            let mut f = self.findings.borrow_mut();
            if ACTIVE_ELEMENTS.contains(&name.as_str()) {
                f.push(format!("element <{name}>"));
            }
            for a in &tag.attrs {
                let attr = a.name.local.to_string();
                let value: String = a
                    .value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if attr.starts_with("on") {
                    f.push(format!("handler {attr} on <{name}>"));
                }
                if attr == "style"
                    && (!self.plain_styles || STYLE_MARKERS.iter().any(|m| value.contains(m)))
                {
                    f.push(format!("style attribute on <{name}>: {value}"));
                }
                if URL_ATTRIBUTES.contains(&attr.as_str())
                    && ["javascript:", "vbscript:", "data:", "livescript:", "mocha:"]
                        .iter()
                        .any(|p| value.starts_with(p))
                {
                    f.push(format!("dangerous URL in {attr} on <{name}>: {value}"));
                }
                if name == "iframe"
                    && attr == "src"
                    && !ALLOWED_FRAME_HOSTS.iter().any(|h| value.starts_with(h))
                {
                    f.push(format!("iframe to {value}"));
                }
            }
            if name == "iframe" && !tag.attrs.iter().any(|a| &*a.name.local == "sandbox") {
                f.push("iframe without sandbox".into());
            }
        }
        TokenSinkResult::Continue
    }
}

/// Every piece of executable or active markup found in `html`.
pub fn findings(html: &str) -> Vec<String> {
    scan(html, false)
}

/// The same for an HTML mail: inline styles pass unless they load, escape or script anything.
pub fn mail_findings(html: &str) -> Vec<String> {
    scan(html, true)
}

fn scan(html: &str, plain_styles: bool) -> Vec<String> {
    let sink = Sink {
        plain_styles,
        ..Sink::default()
    };
    let tok = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.findings.into_inner()
}

#[test]
fn markup_check_flags_known_bad_html() {
    for bad in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\" java\tscript:alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<iframe src=\"https://evil.example/\" sandbox></iframe>",
        "<iframe src=\"https://www.youtube.com/embed/x\"></iframe>",
        "<object data=\"data:text/html,x\"></object>",
        "<p style=\"background:url(javascript:alert(1))\">",
    ] {
        assert!(!findings(bad).is_empty(), "not flagged: {bad}");
        assert!(!mail_findings(bad).is_empty(), "not flagged in mail: {bad}");
    }
    assert!(!findings("<p style=\"color:#222\">").is_empty());
    assert!(mail_findings("<p style=\"color:#222;margin:0 auto\">").is_empty());
    for good in [
        "<p>hello <a href=\"https://e.example/\" rel=\"noopener noreferrer\">x</a></p>",
        "<iframe src=\"https://www.youtube.com/embed/x\" sandbox=\"allow-scripts\"></iframe>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ] {
        assert!(
            findings(good).is_empty(),
            "flagged: {good}: {:?}",
            findings(good)
        );
    }
}
