//! Validation of feeds.toml: the raw document read with spans, every section checked against
//! its keys and types, every problem collected with its line and key. The result is the typed
//! [`Config`](super::Config).

use super::github::github_feed;
use super::*;

pub(super) struct Validator<'a> {
    pub(super) text: &'a str,
    pub(super) problems: Vec<Problem>,
}

#[derive(Deserialize)]
pub(super) struct RawGithub {
    pub(super) base: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawLearning {
    pub(super) enabled: Option<bool>,
    pub(super) weight: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct RawServe {
    pub(super) token: Option<String>,
    pub(super) session_idle: Option<toml::Value>,
    pub(super) session_max: Option<toml::Value>,
}

#[derive(Deserialize)]
pub(super) struct RawStorage {
    pub(super) path: Option<PathBuf>,
}

#[derive(Deserialize)]
pub(super) struct RawSchedule {
    pub(super) every: Option<String>,
    pub(super) cron: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) jitter: Option<toml::Value>,
    pub(super) dead_after: Option<toml::Value>,
}

#[derive(Deserialize)]
pub(super) struct RawScoring {
    pub(super) title_weight: Option<f64>,
    pub(super) body_weight: Option<f64>,
    pub(super) body_cap: Option<i64>,
    pub(super) half_life: Option<toml::Value>,
    pub(super) multi_source_bonus: Option<f64>,
    pub(super) veto: Option<Vec<String>>,
    pub(super) hosts: Option<toml::Table>,
}

#[derive(Deserialize)]
pub(super) struct RawOutput {
    pub(super) dir: Option<PathBuf>,
    pub(super) sections: Option<Vec<String>>,
    pub(super) per_section: Option<i64>,
    pub(super) window_days: Option<i64>,
    pub(super) repeat_days: Option<i64>,
    pub(super) curated_size: Option<i64>,
    pub(super) title: Option<String>,
    pub(super) tag_authority: Option<String>,
    pub(super) link: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawDaemon {
    pub(super) grace: Option<toml::Value>,
}

#[derive(Deserialize)]
pub(super) struct RawFetch {
    pub(super) timeout: Option<toml::Value>,
    pub(super) connect_timeout: Option<toml::Value>,
    pub(super) host_delay: Option<toml::Value>,
    pub(super) max_bytes: Option<toml::Value>,
    pub(super) concurrency: Option<i64>,
    pub(super) per_host: Option<i64>,
    pub(super) allow_private: Option<bool>,
    pub(super) proxy: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawFeed {
    pub(super) name: Option<String>,
    pub(super) url: Option<String>,
    pub(super) section: Option<String>,
    pub(super) every: Option<String>,
    pub(super) cron: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) weight: Option<f64>,
    pub(super) keywords: Option<toml::Table>,
    pub(super) allow_private: Option<bool>,
    pub(super) github: Option<String>,
    pub(super) github_kind: Option<String>,
    pub(super) github_user: Option<String>,
}

impl Validator<'_> {
    pub(super) fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        (line, col)
    }

    /// Where `key = …` is written in the table that starts at `table_start`: the spans cover
    /// whole tables, and a problem with a key is easier to fix when it names the key's own
    /// line. `None` (then the table's line is used) when the key is not written on a line of
    /// its own in that table, e.g. inside an inline table.
    pub(super) fn key_offset(&self, table_start: usize, key: &str) -> Option<usize> {
        let start = table_start.min(self.text.len());
        let mut pos = start;
        for (i, line) in self.text[start..].split_inclusive('\n').enumerate() {
            let trimmed = line.trim_start();
            if i > 0 && trimmed.starts_with('[') {
                return None; // the next table
            }
            let lead = line.len() - trimmed.len();
            let rest = [format!("\"{key}\""), format!("'{key}'"), key.to_string()]
                .into_iter()
                .find_map(|k| trimmed.strip_prefix(k.as_str()));
            if let Some(rest) = rest
                && rest.trim_start().starts_with('=')
            {
                return Some(pos + lead);
            }
            pos += line.len();
        }
        None
    }

    pub(super) fn toml_error(&self, e: &toml::de::Error, context: Option<String>) -> ConfigErrors {
        let line_col = e.span().map(|s| self.line_col(s.start));
        let key = e.span().and_then(|s| self.key_of_line(s.start));
        ConfigErrors {
            problems: vec![Problem {
                line_col,
                context,
                key,
                message: toml_words(e.message().trim()),
            }],
        }
    }

    /// The key written on the line holding `offset`: `name` of `name = …` or of `[name]` /
    /// `[[name]]`, when the line starts with one.
    pub(super) fn key_of_line(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("").trim();
        let key = if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_start_matches('[');
            header.split([']', '#']).next().unwrap_or("")
        } else {
            line.split(['=', ' ', '\t', '#']).next().unwrap_or("")
        };
        let key = key.trim().trim_matches(['"', '\'']);
        (!key.is_empty() && !key.contains(['"', '\'', '{', '}'])).then(|| key.to_string())
    }

    /// Where the header of the top-level table `name` is written (`[name]`, `[[name]]`,
    /// `[name.sub]`).
    pub(super) fn table_offset(&self, name: &str) -> Option<usize> {
        let mut pos = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let header = trimmed.trim_start_matches('[');
            if header.len() < trimmed.len()
                && let Some(rest) = header.trim_start().strip_prefix(name)
                && rest.trim_start().starts_with([']', '.'])
            {
                return Some(pos + line.len() - trimmed.len());
            }
            pos += line.len();
        }
        None
    }

    pub(super) fn push(
        &mut self,
        offset: usize,
        context: &str,
        key: Option<&str>,
        message: String,
    ) {
        let at = key
            .and_then(|k| self.key_offset(offset, k))
            .unwrap_or(offset);
        self.problems.push(Problem {
            line_col: Some(self.line_col(at)),
            context: Some(context.to_string()),
            key: key.map(str::to_string),
            message,
        });
    }

    /// Flags unknown keys, then deserializes the table into `T`.
    pub(super) fn section<T: for<'de> Deserialize<'de>>(
        &mut self,
        table: &Spanned<toml::Table>,
        known: &[&str],
        context: &str,
    ) -> Option<T> {
        self.section_at(table.get_ref(), table.span().start, known, context)
    }

    /// [`Self::section`] for a table without a span of its own (a sub-table), located at
    /// `offset`.
    pub(super) fn section_at<T: for<'de> Deserialize<'de>>(
        &mut self,
        table: &toml::Table,
        offset: usize,
        known: &[&str],
        context: &str,
    ) -> Option<T> {
        for key in table.keys() {
            if !known.contains(&key.as_str()) {
                self.push(offset, context, Some(key), unknown_key_message(key, known));
            }
        }
        // Drop unknown keys (already reported) so the typed pass reports only type errors.
        let known_only: toml::Table = table
            .iter()
            .filter(|(k, _)| known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match known_only.clone().try_into::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                // Every field is optional, so the first key that fails alone is the culprit.
                let culprit = known_only.into_iter().find_map(|(k, v)| {
                    toml::Table::from_iter([(k.clone(), v)])
                        .try_into::<T>()
                        .err()
                        .map(|e| (k, e))
                });
                match culprit {
                    Some((k, e)) => {
                        self.push(offset, context, Some(&k), toml_words(e.message().trim()))
                    }
                    None => self.push(offset, context, None, toml_words(e.message().trim())),
                }
                None
            }
        }
    }

    pub(super) fn storage(
        &mut self,
        raw: Option<&Spanned<toml::Table>>,
        base_dir: &Path,
    ) -> Storage {
        let default = PathBuf::from("gleaner.db");
        let path = match raw {
            Some(t) => match self
                .section::<RawStorage>(t, STORAGE_KEYS, "[storage]")
                .and_then(|s| s.path)
            {
                Some(p) if p.as_os_str().to_string_lossy().trim().is_empty() => {
                    self.push(
                        t.span().start,
                        "[storage]",
                        Some("path"),
                        "is empty: name the database file, e.g. \"gleaner.db\"".into(),
                    );
                    default
                }
                Some(p) => p,
                None => default,
            },
            None => default,
        };
        let path = if path.is_relative() {
            base_dir.join(path)
        } else {
            path
        };
        Storage { path }
    }

    pub(super) fn fetch(&mut self, raw: Option<&Spanned<toml::Table>>) -> FetchSettings {
        let mut out = FetchSettings::default();
        let Some(table) = raw else { return out };
        let Some(f) = self.section::<RawFetch>(table, FETCH_KEYS, "[fetch]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[fetch]";
        if let Some(s) = f.timeout {
            match duration_value(&s) {
                Ok(d) => out.timeout = d,
                Err(m) => self.push(at, ctx, Some("timeout"), m),
            }
        }
        match f.connect_timeout {
            Some(s) => match duration_value(&s) {
                Ok(d) if d > out.timeout => self.push(
                    at,
                    ctx,
                    Some("connect_timeout"),
                    format!(
                        "{} is longer than timeout ({}), which bounds the whole request",
                        humantime::format_duration(d),
                        humantime::format_duration(out.timeout)
                    ),
                ),
                Ok(d) => out.connect_timeout = d,
                Err(m) => self.push(at, ctx, Some("connect_timeout"), m),
            },
            // Unset: never longer than the total timeout.
            None => out.connect_timeout = out.connect_timeout.min(out.timeout),
        }
        if let Some(v) = f.host_delay {
            match duration_value(&v).or_else(|e| match &v {
                toml::Value::String(s) if s.trim() == "0s" || s.trim() == "0" => Ok(Duration::ZERO),
                toml::Value::Integer(0) => Ok(Duration::ZERO),
                _ => Err(e),
            }) {
                Ok(d) => out.host_delay = d,
                Err(m) => self.push(at, ctx, Some("host_delay"), m),
            }
        }
        if let Some(v) = f.max_bytes {
            match parse_bytes(&v) {
                Ok(n) => out.max_bytes = n,
                Err(m) => self.push(at, ctx, Some("max_bytes"), m),
            }
        }
        for (key, value, slot) in [
            ("concurrency", f.concurrency, &mut out.concurrency),
            ("per_host", f.per_host, &mut out.per_host),
        ] {
            if let Some(n) = value {
                match usize::try_from(n) {
                    Ok(n) if (1..=1024).contains(&n) => *slot = n,
                    _ => self.push(
                        at,
                        ctx,
                        Some(key),
                        format!("must be between 1 and 1024, got {n}"),
                    ),
                }
            }
        }
        out.allow_private = f.allow_private.unwrap_or(false);
        if let Some(p) = f.proxy {
            match Url::parse(p.trim()) {
                Ok(u)
                    if matches!(u.scheme(), "http" | "https")
                        && u.host().is_some()
                        && matches!(u.path(), "" | "/")
                        && u.query().is_none() =>
                {
                    out.proxy = Some(u)
                }
                Ok(u) if !matches!(u.scheme(), "http" | "https") => self.push(
                    at,
                    ctx,
                    Some("proxy"),
                    format!(
                        "`{p}`: only http and https proxies are supported (scheme `{}`)",
                        u.scheme()
                    ),
                ),
                Ok(_) => self.push(
                    at,
                    ctx,
                    Some("proxy"),
                    format!("`{p}` is not a proxy address like \"http://127.0.0.1:3128\""),
                ),
                Err(e) => self.push(at, ctx, Some("proxy"), format!("`{p}` is not a URL: {e}")),
            }
        }
        out
    }

    pub(super) fn schedule(&mut self, raw: Option<&Spanned<toml::Table>>) -> Policy {
        let mut out = Policy::default();
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawSchedule>(table, SCHEDULE_KEYS, "[schedule]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[schedule]";
        if s.every.is_some() || s.cron.is_some() || s.timezone.is_some() {
            match Schedule::parse(s.every.as_deref(), s.cron.as_deref(), s.timezone.as_deref()) {
                Ok(d) => out.default = d,
                Err(m) => {
                    let key = if s.cron.is_some() { "cron" } else { "every" };
                    self.push(at, ctx, Some(key), m)
                }
            }
        }
        if let Some(j) = s.jitter {
            match parse_fraction(&j) {
                Ok(f) => out.jitter = f,
                Err(m) => self.push(at, ctx, Some("jitter"), m),
            }
        }
        if let Some(d) = s.dead_after {
            match duration_value(&d) {
                Ok(d) => out.dead_after = d,
                Err(m) => self.push(at, ctx, Some("dead_after"), m),
            }
        }
        out
    }

    /// `phrase = weight` pairs, as in `[keywords]`, `[scoring.hosts]` and per-feed keywords.
    pub(super) fn weights(
        &mut self,
        table: &toml::Table,
        at: usize,
        ctx: &str,
        terms: bool,
    ) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (k, v) in table {
            let weight = match v {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) if f.is_finite() => *f,
                other => {
                    self.push(
                        at,
                        ctx,
                        Some(k),
                        format!("expected a number (the weight), got {other}"),
                    );
                    continue;
                }
            };
            if terms && let Err(m) = crate::text::check_term(k) {
                self.push(at, ctx, Some(k), m);
                continue;
            }
            out.push((k.clone(), weight));
        }
        out
    }

    pub(super) fn scoring(
        &mut self,
        keywords: Option<&Spanned<toml::Table>>,
        raw: Option<&Spanned<toml::Table>>,
    ) -> ScoringSettings {
        let mut out = ScoringSettings::default();
        if let Some(k) = keywords {
            out.keywords = self.weights(k.get_ref(), k.span().start, "[keywords]", true);
        }
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawScoring>(table, SCORING_KEYS, "[scoring]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[scoring]";
        for (key, value, slot) in [
            ("title_weight", s.title_weight, &mut out.title_weight),
            ("body_weight", s.body_weight, &mut out.body_weight),
            (
                "multi_source_bonus",
                s.multi_source_bonus,
                &mut out.multi_source_bonus,
            ),
        ] {
            match value {
                Some(v) if v.is_finite() && v >= 0.0 => *slot = v,
                Some(v) => self.push(at, ctx, Some(key), format!("must be zero or more, got {v}")),
                None => {}
            }
        }
        if let Some(c) = s.body_cap {
            match u32::try_from(c) {
                Ok(c) => out.body_cap = c,
                Err(_) => self.push(
                    at,
                    ctx,
                    Some("body_cap"),
                    format!("must be zero or more, got {c}"),
                ),
            }
        }
        if let Some(h) = s.half_life {
            match duration_value(&h) {
                Ok(d) => out.half_life = d,
                Err(m) => self.push(at, ctx, Some("half_life"), m),
            }
        }
        for term in s.veto.unwrap_or_default() {
            match crate::text::check_term(&term) {
                Ok(()) => out.veto.push(term),
                Err(m) => self.push(at, ctx, Some("veto"), m),
            }
        }
        if let Some(hosts) = s.hosts {
            out.hosts = self
                .weights(&hosts, at, "[scoring.hosts]", false)
                .into_iter()
                .map(|(h, w)| (h.trim().trim_start_matches("www.").to_ascii_lowercase(), w))
                .collect();
            for (h, w) in &out.hosts {
                if *w < 0.0 {
                    self.push(
                        at,
                        "[scoring.hosts]",
                        Some(h),
                        "a host weight multiplies; use 0 to mute a host".into(),
                    );
                }
            }
        }
        out
    }

    pub(super) fn output(
        &mut self,
        raw: Option<&Spanned<toml::Table>>,
        base_dir: &Path,
    ) -> OutputSettings {
        let mut out = OutputSettings::with_dir(base_dir.join("out"));
        let Some(table) = raw else { return out };
        let Some(o) = self.section::<RawOutput>(table, OUTPUT_KEYS, "[output]") else {
            return out;
        };
        let at = table.span().start;
        let ctx = "[output]";
        if let Some(d) = o.dir {
            out.dir = if d.is_relative() { base_dir.join(d) } else { d };
        }
        if let Some(sections) = o.sections {
            let cleaned: Vec<String> = sections.iter().map(|s| s.trim().to_string()).collect();
            if cleaned.is_empty() || cleaned.iter().any(String::is_empty) {
                self.push(
                    at,
                    ctx,
                    Some("sections"),
                    "must list section names, none empty".into(),
                );
            } else {
                out.sections = Sections::new(cleaned);
            }
        }
        for (key, value, slot) in [
            ("per_section", o.per_section, &mut out.per_section),
            ("curated_size", o.curated_size, &mut out.curated_size),
        ] {
            match value.map(usize::try_from) {
                Some(Ok(n)) if n >= 1 => *slot = n,
                Some(_) => self.push(
                    at,
                    ctx,
                    Some(key),
                    format!("must be 1 or more, got {}", value.unwrap_or_default()),
                ),
                None => {}
            }
        }
        for (key, value, slot) in [
            ("window_days", o.window_days, &mut out.window_days),
            ("repeat_days", o.repeat_days, &mut out.repeat_days),
        ] {
            match value.map(u32::try_from) {
                Some(Ok(n)) => *slot = n,
                Some(Err(_)) => self.push(
                    at,
                    ctx,
                    Some(key),
                    format!("must be zero or more, got {}", value.unwrap_or_default()),
                ),
                None => {}
            }
        }
        if let Some(t) = o.title.filter(|t| !t.trim().is_empty()) {
            out.title = t.trim().to_string();
        }
        if let Some(a) = o.tag_authority {
            let a = a.trim();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == ',') {
                self.push(
                    at,
                    ctx,
                    Some("tag_authority"),
                    format!("`{a}` is not a domain name or email address"),
                );
            } else {
                out.tag_authority = a.to_string();
            }
        }
        if let Some(l) = o.link {
            match Url::parse(l.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => out.link = Some(u),
                _ => self.push(
                    at,
                    ctx,
                    Some("link"),
                    format!("`{l}` is not an http(s) URL"),
                ),
            }
        }
        out
    }

    pub(super) fn daemon(&mut self, raw: Option<&Spanned<toml::Table>>) -> DaemonSettings {
        let mut out = DaemonSettings::default();
        let Some(table) = raw else { return out };
        let Some(d) = self.section::<RawDaemon>(table, DAEMON_KEYS, "[daemon]") else {
            return out;
        };
        if let Some(g) = d.grace {
            match duration_value(&g) {
                Ok(g) => out.grace = g,
                Err(m) => self.push(table.span().start, "[daemon]", Some("grace"), m),
            }
        }
        out
    }

    pub(super) fn learning(&mut self, raw: Option<&Spanned<toml::Table>>) -> LearningSettings {
        let mut out = LearningSettings::default();
        let Some(table) = raw else { return out };
        let Some(l) = self.section::<RawLearning>(table, LEARNING_KEYS, "[learning]") else {
            return out;
        };
        if let Some(e) = l.enabled {
            out.enabled = e;
        }
        match l.weight {
            Some(w) if !w.is_finite() || w < 0.0 => self.push(
                table.span().start,
                "[learning]",
                Some("weight"),
                format!("is {w}: use 0 or more (0 is the same as enabled = false)"),
            ),
            Some(w) => out.weight = w,
            None => {}
        }
        out
    }

    pub(super) fn serve(&mut self, raw: Option<&Spanned<toml::Table>>) -> ServeSettings {
        let mut out = ServeSettings::default();
        let Some(table) = raw else { return out };
        let Some(s) = self.section::<RawServe>(table, SERVE_KEYS, "[serve]") else {
            return out;
        };
        let at = table.span().start;
        match s.token {
            Some(t) if t.trim().is_empty() => self.push(
                at,
                "[serve]",
                Some("token"),
                "is empty: set a long random token (e.g. `openssl rand -hex 24`), or remove the key to serve on loopback only".into(),
            ),
            Some(t) if t.chars().count() < MIN_TOKEN_LEN => self.push(
                at,
                "[serve]",
                Some("token"),
                format!(
                    "is {} characters: use at least {MIN_TOKEN_LEN} (e.g. `openssl rand -hex 24`)",
                    t.chars().count()
                ),
            ),
            Some(t) => out.token = Some(Secret::new(t)),
            None => {}
        }
        for (key, raw, slot) in [
            ("session_idle", s.session_idle, &mut out.session_idle),
            ("session_max", s.session_max, &mut out.session_max),
        ] {
            let Some(v) = raw else { continue };
            // The cookie's Max-Age is in whole seconds: less than one would delete it.
            match duration_value(&v) {
                Ok(d) if d < Duration::from_secs(1) => self.push(
                    at,
                    "[serve]",
                    Some(key),
                    format!("is {}: use at least 1s", humantime::format_duration(d)),
                ),
                Ok(d) => *slot = d,
                Err(m) => self.push(at, "[serve]", Some(key), m),
            }
        }
        out
    }

    /// `[github] base`: where the `github` shorthands point (GitHub Enterprise Server serves
    /// the same feeds under its own address). Always ends with `/`.
    pub(super) fn github(&mut self, raw: Option<&Spanned<toml::Table>>) -> Url {
        let default = Url::parse("https://github.com/").expect("a valid URL");
        let Some(table) = raw else { return default };
        let Some(g) = self.section::<RawGithub>(table, GITHUB_KEYS, "[github]") else {
            return default;
        };
        let Some(base) = g.base else { return default };
        let with_slash = if base.trim().ends_with('/') {
            base.trim().to_string()
        } else {
            format!("{}/", base.trim())
        };
        match Url::parse(&with_slash) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                self.push(
                    table.span().start,
                    "[github]",
                    Some("base"),
                    format!("`{base}` is not an http(s) URL like \"https://github.example.com\""),
                );
                default
            }
        }
    }

    pub(super) fn feeds(
        &mut self,
        raw: &[Spanned<toml::Table>],
        github_base: &Url,
    ) -> Vec<FeedConfig> {
        let mut out = Vec::new();
        let mut by_url: HashMap<Url, String> = HashMap::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, table) in raw.iter().enumerate() {
            let at = table.span().start;
            // Name the feed even when its entry is broken.
            let label = match table.get_ref().get("name").and_then(|v| v.as_str()) {
                Some(name) => format!("feed \"{name}\""),
                None => format!("feed #{}", i + 1),
            };
            let Some(f) = self.section::<RawFeed>(table, FEED_KEYS, &label) else {
                continue;
            };
            let github = match github_feed(&f, github_base) {
                Ok(g) => g,
                Err((key, m)) => {
                    self.push(at, &label, Some(key), m);
                    continue;
                }
            };
            let name = match (f.name.map(|n| n.trim().to_string()), &github) {
                (Some(n), _) if !n.is_empty() => n,
                (None, Some((_, derived))) => derived.clone(),
                _ => {
                    self.push(at, &label, Some("name"), "missing or empty".into());
                    continue;
                }
            };
            let url = match (f.url.as_deref().map(str::trim), github) {
                (None, Some((url, _))) => url,
                (Some(_), Some(_)) => {
                    self.push(
                        at,
                        &label,
                        Some("url"),
                        "set either url or a github shorthand (github, github_user), not both"
                            .into(),
                    );
                    continue;
                }
                (None | Some(""), None) => {
                    self.push(
                        at,
                        &label,
                        Some("url"),
                        "missing or empty: every feed needs the URL of its feed".into(),
                    );
                    continue;
                }
                (Some(s), None) => match Url::parse(s) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
                    Ok(u) => {
                        self.push(
                            at,
                            &label,
                            Some("url"),
                            format!("`{s}` is not an http(s) URL (scheme `{}`)", u.scheme()),
                        );
                        continue;
                    }
                    Err(e) => {
                        self.push(at, &label, Some("url"), format!("`{s}` is not a URL: {e}"));
                        continue;
                    }
                },
            };
            let schedule = if f.every.is_some() || f.cron.is_some() || f.timezone.is_some() {
                match Schedule::parse(f.every.as_deref(), f.cron.as_deref(), f.timezone.as_deref())
                {
                    Ok(s) => Some(s),
                    Err(m) => {
                        let key = if f.cron.is_some() {
                            "cron"
                        } else if f.every.is_some() {
                            "every"
                        } else {
                            "timezone"
                        };
                        self.push(at, &label, Some(key), m);
                        continue;
                    }
                }
            } else {
                None
            };
            let section = match f.section.map(|s| s.trim().to_string()) {
                Some(s) if s.is_empty() => {
                    self.push(at, &label, Some("section"), "is empty".into());
                    None
                }
                other => other,
            };
            if let Some(first) = by_url.get(&url) {
                self.push(
                    at,
                    &label,
                    Some("url"),
                    format!("duplicate feed URL {url}, already used by feed \"{first}\""),
                );
                continue;
            }
            if let Some(&first) = by_name.get(&name) {
                self.push(
                    at,
                    &label,
                    Some("name"),
                    format!("duplicate feed name, already used by feed #{}", first + 1),
                );
                continue;
            }
            let weight = match f.weight {
                Some(w) if w.is_finite() && w >= 0.0 => w,
                Some(w) => {
                    self.push(
                        at,
                        &label,
                        Some("weight"),
                        format!("must be zero or more, got {w}"),
                    );
                    continue;
                }
                None => 1.0,
            };
            let keywords = match &f.keywords {
                Some(k) => self.weights(k, at, &format!("{label}: keywords"), true),
                None => Vec::new(),
            };
            by_url.insert(url.clone(), name.clone());
            by_name.insert(name.clone(), i);
            out.push(FeedConfig {
                name,
                url,
                section,
                schedule,
                weight,
                keywords,
                allow_private: f.allow_private.unwrap_or(false),
            });
        }
        out
    }
}

pub(super) fn unknown_key_message(key: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), *k))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, k)) if score > 0.8 => format!("unknown key (did you mean `{k}`?)"),
        _ => format!("unknown key (expected one of: {})", known.join(", ")),
    }
}

/// `"20s"`, `"1m 30s"`, `"500ms"` (humantime).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "`{s}` is not a duration like \"20s\" or \"2m\": {e}"
        )),
    }
}

/// `"25%"`, or a fraction between 0 and 1.
pub(super) fn parse_fraction(v: &toml::Value) -> Result<f64, String> {
    let f = match v {
        toml::Value::String(s) => match s.trim().strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0).map_err(|_| ()),
            None => Err(()),
        }
        .map_err(|_| format!("`{s}` is not a percentage like \"25%\""))?,
        toml::Value::Float(f) => *f,
        toml::Value::Integer(0) => 0.0,
        other => return Err(format!("expected a percentage like \"25%\", got {other}")),
    };
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(format!("must be between 0% and 100%, got {}%", f * 100.0))
    }
}

/// A duration string, or a whole number of seconds.
pub(super) fn duration_value(v: &toml::Value) -> Result<Duration, String> {
    match v {
        toml::Value::String(s) => parse_duration(s),
        toml::Value::Integer(n) if *n > 0 => Ok(Duration::from_secs(*n as u64)),
        other => Err(format!("expected a duration like \"20s\", got {other}")),
    }
}

/// `"15MiB"`, `"500 KB"` or a plain number of bytes.
pub(super) fn parse_bytes(v: &toml::Value) -> Result<u64, String> {
    let n = match v {
        toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| format!("{n} is negative"))?,
        toml::Value::String(s) => s
            .trim()
            .parse::<bytesize::ByteSize>()
            .map_err(|e| format!("`{s}` is not a size like \"15MiB\": {e}"))?
            .as_u64(),
        other => return Err(format!("expected a size like \"15MiB\", got {other}")),
    };
    if n < 1024 {
        return Err(format!("{n} bytes is too small to hold a feed"));
    }
    Ok(n)
}
