//! Attribute paths, so a diagnostic points Terraform at the exact line of configuration at fault.

use std::fmt;

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Attribute(String),
    ElementKeyString(String),
    ElementKeyInt(i64),
}

/// A path from the root of a resource's object to one attribute or element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct AttributePath {
    pub steps: Vec<Step>,
}

impl AttributePath {
    /// The empty path (the whole object).
    pub fn root() -> Self {
        Self::default()
    }

    /// A path to a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        Self {
            steps: vec![Step::Attribute(name.into())],
        }
    }

    /// This path extended by an attribute name.
    pub fn join_attr(&self, name: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.steps.push(Step::Attribute(name.into()));
        p
    }

    /// This path extended by a map key.
    pub fn join_key(&self, key: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.steps.push(Step::ElementKeyString(key.into()));
        p
    }

    /// This path extended by a list index.
    pub fn join_index(&self, i: i64) -> Self {
        let mut p = self.clone();
        p.steps.push(Step::ElementKeyInt(i));
        p
    }

    /// Parses the dotted form used by policy results ("tags.owner", "log_exports[0]", `tags["a.b"]`).
    pub fn parse_dotted(s: &str) -> Self {
        let mut steps = Vec::new();
        let mut cur = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    if !cur.is_empty() {
                        steps.push(Step::Attribute(std::mem::take(&mut cur)));
                    }
                }
                '[' => {
                    if !cur.is_empty() {
                        steps.push(Step::Attribute(std::mem::take(&mut cur)));
                    }
                    let mut inner = String::new();
                    for d in chars.by_ref() {
                        if d == ']' {
                            break;
                        }
                        inner.push(d);
                    }
                    let inner = inner.trim();
                    if let Ok(i) = inner.parse::<i64>() {
                        steps.push(Step::ElementKeyInt(i));
                    } else {
                        steps.push(Step::ElementKeyString(inner.trim_matches('"').to_string()));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            steps.push(Step::Attribute(cur));
        }
        Self { steps }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::Attribute(n) if i == 0 => write!(f, "{n}")?,
                Step::Attribute(n) => write!(f, ".{n}")?,
                Step::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                Step::ElementKeyInt(k) => write!(f, "[{k}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_round_trip() {
        let p = AttributePath::parse_dotted("tags[\"owner\"]");
        assert_eq!(p, AttributePath::attr("tags").join_key("owner"));
        let p = AttributePath::parse_dotted("log_exports[1]");
        assert_eq!(p, AttributePath::attr("log_exports").join_index(1));
        assert_eq!(AttributePath::parse_dotted("a.b").to_string(), "a.b");
    }
}
