//! The newsletter's sections: one type for their order and for matching their names.

use serde::Serialize;

/// The sections in issue order, as configured (`[output] sections`). Names match whatever their
/// case (`news` is `News`); a section that is not configured comes after all that are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sections(Vec<String>);

impl Sections {
    pub fn new(names: Vec<String>) -> Sections {
        Sections(names)
    }

    /// Whether two section names are the same section.
    pub fn same(a: &str, b: &str) -> bool {
        a.eq_ignore_ascii_case(b)
    }

    /// Where `name` stands in issue order: its place among the configured sections, or after
    /// every one of them (`usize::MAX`) when it is not configured.
    pub fn rank(&self, name: &str) -> usize {
        self.0
            .iter()
            .position(|s| Sections::same(s, name))
            .unwrap_or(usize::MAX)
    }

    /// The configured spelling of `name`, when it is a configured section.
    pub fn find(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|s| Sections::same(s, name))
            .map(String::as_str)
    }
}

impl std::ops::Deref for Sections {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_names_ignore_case() {
        let s = Sections::new(vec!["News".into(), "Jobs".into()]);
        assert_eq!(
            (s.rank("jobs"), s.rank("NEWS"), s.rank("Tools")),
            (1, 0, usize::MAX)
        );
        assert_eq!(s.find("news"), Some("News"));
        assert_eq!(s.find("Tools"), None);
        assert!(Sections::same("eVents", "Events"));
        assert_eq!(s.join(", "), "News, Jobs");
    }
}
