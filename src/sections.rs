//! Which section of the newsletter a story belongs in, when the editor has not said: the
//! section configured on the feed that owns it, else rules on its link and title. Pure.
//!
//! | rule | section |
//! |---|---|
//! | host `github.com`, `gitlab.com`, `codeberg.org`, `crates.io`, `pypi.org`, `npmjs.com`, or a path with `/releases` | Tools |
//! | a job board host (`weworkremotely.com`, `remoteok.com`, `remotive.com`, `greenhouse.io`, `lever.co`, `workable.com`, `ashbyhq.com`, `jobs.*`, `careers.*`) or a `/jobs/` or `/careers/` path | Jobs |
//! | an event or CFP host (`sessionize.com`, `papercall.io`, `meetup.com`, `eventbrite.*`, `devopsdays.org`, `kubecon`), or the title mentions a CFP, call for papers/proposals, conference, summit, meetup or webinar | Events |
//! | otherwise | News |

/// The section for a story: `configured` (the owning feed's) wins; then the rules above.
pub fn suggest(configured: Option<&str>, url: Option<&str>, title: &str) -> String {
    if let Some(s) = configured {
        return s.to_string();
    }
    let parsed = url.and_then(|u| url::Url::parse(u).ok());
    suggest_url(None, parsed.as_ref(), title)
}

/// [`suggest`] with the link already parsed (scoring parses it once for everything it needs).
pub fn suggest_url(configured: Option<&str>, parsed: Option<&url::Url>, title: &str) -> String {
    if let Some(s) = configured {
        return s.to_string();
    }
    let host = parsed
        .and_then(|u| u.host_str())
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
        .unwrap_or_default();
    let path = parsed
        .map(|u| u.path().to_ascii_lowercase())
        .unwrap_or_default();
    let host_is = |names: &[&str]| {
        names
            .iter()
            .any(|n| host == *n || host.strip_suffix(n).is_some_and(|rest| rest.ends_with('.')))
    };

    if host_is(&[
        "github.com",
        "gitlab.com",
        "codeberg.org",
        "crates.io",
        "pypi.org",
        "npmjs.com",
    ]) || path.contains("/releases")
    {
        return "Tools".into();
    }
    if host_is(&[
        "weworkremotely.com",
        "remoteok.com",
        "remoteok.io",
        "remotive.com",
        "greenhouse.io",
        "lever.co",
        "workable.com",
        "ashbyhq.com",
        "workingnomads.com",
    ]) || host.starts_with("jobs.")
        || host.starts_with("careers.")
        || path.contains("/jobs/")
        || path.contains("/careers/")
    {
        return "Jobs".into();
    }
    let t = crate::text::normalize(title);
    // Whole words: the normalized title has a space at both ends and between words.
    let title_has = |words: &[&str]| {
        words.iter().any(|w| {
            t.match_indices(w).any(|(i, _)| {
                t.as_bytes().get(i.wrapping_sub(1)) == Some(&b' ')
                    && t.as_bytes().get(i + w.len()) == Some(&b' ')
            })
        })
    };
    if host_is(&[
        "sessionize.com",
        "papercall.io",
        "meetup.com",
        "devopsdays.org",
        "lu.ma",
    ]) || host.contains("eventbrite.")
        || host.contains("kubecon")
        || title_has(&[
            "cfp",
            "call for papers",
            "call for proposals",
            "call for speakers",
            "conference",
            "summit",
            "meetup",
            "webinar",
        ])
    {
        return "Events".into();
    }
    "News".into()
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn configured_section_wins() {
        assert_eq!(
            suggest(Some("Culture"), Some("https://github.com/x/y"), "x"),
            "Culture"
        );
    }

    #[test]
    fn rules() {
        let s = |url: &str, title: &str| suggest(None, Some(url), title);
        assert_eq!(
            s(
                "https://github.com/prometheus/prometheus/releases/tag/v2.53.0",
                "v2.53.0"
            ),
            "Tools"
        );
        assert_eq!(s("https://blog.example/releases/1.2", "Foo 1.2"), "Tools");
        assert_eq!(
            s("https://weworkremotely.com/remote-jobs/acme-sre", "SRE"),
            "Jobs"
        );
        assert_eq!(s("https://boards.greenhouse.io/acme/jobs/1", "SRE"), "Jobs");
        assert_eq!(s("https://acme.example/careers/sre", "SRE"), "Jobs");
        assert_eq!(s("https://sessionize.com/srecon", "SREcon"), "Events");
        assert_eq!(
            s(
                "https://blog.example/p",
                "The CfP for DevOpsDays Berlin is open"
            ),
            "Events"
        );
        assert_eq!(
            s("https://blog.example/p", "Call for Papers: SREcon"),
            "Events"
        );
        assert_eq!(
            s("https://blog.example/p", "Scaling Postgres at Acme"),
            "News"
        );
        assert_eq!(suggest(None, None, "No link"), "News");
    }
}
