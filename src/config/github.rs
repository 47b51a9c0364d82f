//! The GitHub shorthand: `github = "owner/repo"` with `releases`, `tags` or `commits` expands
//! to the repository's Atom feed at `[github] base`.

use url::Url;

use super::GITHUB_KINDS;
use super::validate::RawFeed;

/// The feed URL and default name a `github = "owner/repo"` (with `github_kind`) or
/// `github_user = "name"` shorthand stands for, or the key and message of what is wrong.
pub(super) fn github_feed(
    f: &RawFeed,
    base: &Url,
) -> Result<Option<(Url, String)>, (&'static str, String)> {
    let owner_ok = |s: &str| {
        (1..=39).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let repo_ok = |s: &str| {
        (1..=100).contains(&s.len())
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let join = |path: String| base.join(&path).map_err(|e| ("github", e.to_string()));
    match (
        f.github.as_deref().map(str::trim),
        f.github_user.as_deref().map(str::trim),
    ) {
        (Some(_), Some(_)) => Err((
            "github_user",
            "set github (a repository) or github_user (a person's activity), not both".into(),
        )),
        (None, None) => match &f.github_kind {
            Some(_) => Err((
                "github_kind",
                "applies only with github = \"owner/repo\"".into(),
            )),
            None => Ok(None),
        },
        (None, Some(user)) => {
            if f.github_kind.is_some() {
                return Err((
                    "github_kind",
                    "applies only with github = \"owner/repo\"".into(),
                ));
            }
            if !owner_ok(user) {
                return Err((
                    "github_user",
                    format!("`{user}` is not a GitHub user name (letters, digits and -)"),
                ));
            }
            Ok(Some((
                join(format!("{user}.atom"))?,
                format!("{user} on GitHub"),
            )))
        }
        (Some(repo), None) => {
            let Some((owner, name)) = repo
                .split_once('/')
                .filter(|(o, r)| owner_ok(o) && repo_ok(r))
            else {
                return Err((
                    "github",
                    format!("`{repo}` is not a repository like \"owner/repo\""),
                ));
            };
            let kind = f.github_kind.as_deref().map_or("releases", str::trim);
            if !GITHUB_KINDS.contains(&kind) {
                return Err((
                    "github_kind",
                    format!(
                        "must be one of {}, got `{kind}`",
                        GITHUB_KINDS
                            .iter()
                            .map(|k| format!("\"{k}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Ok(Some((
                join(format!("{owner}/{name}/{kind}.atom"))?,
                format!("{owner}/{name} {kind}"),
            )))
        }
    }
}
