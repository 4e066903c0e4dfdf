//! `TextQuery`: a parsed full-text query (syntax in the parent module's
//! header) and its evaluation on one string, [`TextQuery::matches`].

use std::fmt;

use super::ast::Node;
use super::parse;
use super::tokenize::tokenize;
use crate::Error;

/// A parsed full-text query over event messages.
///
/// ```
/// use kevdb_index::TextQuery;
///
/// let q = TextQuery::parse(r#""back-off restarting" -"init container" OR oomkill*"#)?;
/// assert!(q.matches("Back-off restarting failed container web in pod web-7d5bc"));
/// assert!(!q.matches("Back-off restarting failed init container"));
/// assert!(q.matches("Memory cgroup out of memory: OOMKilled"));
/// assert!(TextQuery::parse("(unclosed").is_err());
/// # Ok::<(), kevdb_index::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    pub(crate) root: Node,
}

impl TextQuery {
    /// Parses `s`; the error ([`Error::InvalidQuery`]) says where and what is wrong.
    pub fn parse(s: &str) -> Result<TextQuery, Error> {
        parse::parse(s).map(|root| TextQuery { root })
    }

    /// Whether `text` matches, with exactly the semantics of
    /// [`FullTextIndex::search`](super::FullTextIndex::search).
    pub fn matches(&self, text: &str) -> bool {
        self.root.matches(&tokenize(text))
    }
}

impl Node {
    fn matches(&self, text: &[String]) -> bool {
        match self {
            Node::Seq { tokens, prefix } => seq_matches(tokens, *prefix, text),
            Node::And(children) => children.iter().all(|c| c.matches(text)),
            Node::Or(children) => children.iter().any(|c| c.matches(text)),
            Node::Not(child) => !child.matches(text),
        }
    }
}

fn seq_matches(seq: &[String], prefix: bool, text: &[String]) -> bool {
    let Some((last, init)) = seq.split_last() else { return false };
    if text.len() < seq.len() {
        return false;
    }
    (0..=text.len() - seq.len()).any(|start| {
        let window = &text[start..start + seq.len()];
        let (text_last, text_init) = window.split_last().expect("window has seq.len() >= 1 tokens");
        text_init == init && if prefix { text_last.starts_with(last.as_str()) } else { text_last == last }
    })
}

/// The canonical spelling of the query; parsing it gives the same query back.
impl fmt::Display for TextQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}
