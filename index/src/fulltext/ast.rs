//! The syntax tree of a full-text query: [`Node`], what `parse` produces
//! and `TextQuery` and `FullTextIndex` evaluate, with its canonical spelling
//! (its `Display`, which parses back to the same tree).

use std::fmt;

/// A query expression over token sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// `tokens` (non-empty) appear consecutively; with `prefix`, the last one
    /// need only be a prefix of a token. One exact token is a term query.
    Seq { tokens: Vec<String>, prefix: bool },
    /// Every child matches (at least two children).
    And(Vec<Node>),
    /// Some child matches (at least two children).
    Or(Vec<Node>),
    /// The child does not match.
    Not(Box<Node>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Seq { tokens, prefix } => {
                let star = if *prefix { "*" } else { "" };
                match tokens.as_slice() {
                    [one] => write!(f, "{one}{star}"),
                    many => write!(f, "\"{}{star}\"", many.join(" ")),
                }
            }
            Node::And(children) | Node::Or(children) => {
                let sep = if matches!(self, Node::And(_)) { " " } else { " OR " };
                f.write_str("(")?;
                for (i, child) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    child.fmt(f)?;
                }
                f.write_str(")")
            }
            Node::Not(child) => write!(f, "NOT {child}"),
        }
    }
}
