//! The full-text query parser: a lexer and a recursive-descent parser for the
//! syntax documented in the parent module's header.
//!
//! ```text
//! query   = or
//! or      = and { "OR" and }
//! and     = unary { [ "AND" ] unary }
//! unary   = ( "NOT" | "-" ) unary | primary
//! primary = "(" or ")" | '"' phrase '"' | word [ "*" ]
//! ```

use super::ast::Node;
use super::tokenize::tokenize;
use crate::Error;

/// Deepest nesting of parentheses and NOTs accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'s> {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// The text between double quotes.
    Quoted(&'s str),
    Word(&'s str),
}

fn invalid(position: usize, reason: impl Into<String>) -> Error {
    Error::InvalidQuery { position, reason: reason.into() }
}

fn lex(s: &str) -> Result<Vec<(usize, Tok<'_>)>, Error> {
    let mut toks = Vec::new();
    let mut rest = s.char_indices().peekable();
    while let Some((at, c)) = rest.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => toks.push((at, Tok::LParen)),
            ')' => toks.push((at, Tok::RParen)),
            '"' => {
                let end = s[at + 1..].find('"').ok_or_else(|| invalid(at, "unterminated quote"))? + at + 1;
                toks.push((at, Tok::Quoted(&s[at + 1..end])));
                while rest.next_if(|&(i, _)| i <= end).is_some() {}
            }
            // A '-' directly before a term, quote or group negates it.
            '-' if rest.peek().is_some_and(|&(_, n)| !n.is_whitespace() && n != ')') => toks.push((at, Tok::Not)),
            _ => {
                let end = s[at..].find(|c: char| c.is_whitespace() || "()\"".contains(c)).map_or(s.len(), |e| e + at);
                let word = &s[at..end];
                toks.push((
                    at,
                    match word {
                        "AND" => Tok::And,
                        "OR" => Tok::Or,
                        "NOT" => Tok::Not,
                        _ => Tok::Word(word),
                    },
                ));
                while rest.next_if(|&(i, _)| i < end).is_some() {}
            }
        }
    }
    Ok(toks)
}

struct Parser<'s> {
    toks: Vec<(usize, Tok<'s>)>,
    next: usize,
    len: usize,
    depth: usize,
}

/// Parses a query string into its expression tree.
pub(super) fn parse(s: &str) -> Result<Node, Error> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err(invalid(0, "empty query"));
    }
    let mut parser = Parser { toks, next: 0, len: s.len(), depth: 0 };
    let root = parser.or()?;
    match parser.peek() {
        None => Ok(root),
        Some((at, Tok::RParen)) => Err(invalid(at, "unmatched `)`")),
        Some((at, tok)) => Err(invalid(at, format!("unexpected {tok:?}"))),
    }
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<(usize, Tok<'s>)> {
        self.toks.get(self.next).cloned()
    }

    fn here(&self) -> usize {
        self.toks.get(self.next).map_or(self.len, |t| t.0)
    }

    fn or(&mut self) -> Result<Node, Error> {
        let mut children = vec![self.and()?];
        while let Some((_, Tok::Or)) = self.peek() {
            self.next += 1;
            children.push(self.and()?);
        }
        Ok(collapse(children, Node::Or))
    }

    fn and(&mut self) -> Result<Node, Error> {
        let mut children = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some((_, Tok::Or | Tok::RParen)) => break,
                Some((_, Tok::And)) => self.next += 1,
                Some(_) => {}
            }
            children.push(self.unary()?);
        }
        Ok(collapse(children, Node::And))
    }

    fn unary(&mut self) -> Result<Node, Error> {
        if let Some((at, Tok::Not)) = self.peek() {
            self.next += 1;
            self.enter(at)?;
            let child = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(child)));
        }
        self.primary()
    }

    fn enter(&mut self, at: usize) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(at, format!("query nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Node, Error> {
        let at = self.here();
        let Some((_, tok)) = self.peek() else {
            return Err(invalid(at, "expected a word, a phrase or `(` at the end of the query"));
        };
        self.next += 1;
        match tok {
            Tok::LParen => {
                if let Some((close, Tok::RParen)) = self.peek() {
                    return Err(invalid(close, "empty parentheses"));
                }
                self.enter(at)?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.peek() {
                    Some((_, Tok::RParen)) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    _ => Err(invalid(at, "`(` is never closed")),
                }
            }
            Tok::Quoted(text) => seq(at, text, "phrase"),
            Tok::Word(word) => seq(at, word, "word"),
            Tok::RParen => Err(invalid(at, "unmatched `)`")),
            Tok::And => Err(invalid(at, "`AND` needs a term on each side")),
            Tok::Or => Err(invalid(at, "`OR` needs a term on each side")),
            // `unary` consumes NOTs before calling `primary`.
            Tok::Not => Err(invalid(at, "unexpected `NOT`")),
        }
    }
}

/// The token sequence a word or phrase stands for; a trailing `*` makes its
/// last token a prefix.
fn seq(at: usize, text: &str, what: &str) -> Result<Node, Error> {
    let base = text.trim_end_matches('*');
    let prefix = base.len() != text.len();
    let tokens = tokenize(base);
    if tokens.is_empty() {
        let reason = if prefix {
            format!("prefix {text:?} needs a letter or digit before `*`")
        } else {
            format!("{what} {text:?} has no letters or digits to search for")
        };
        return Err(invalid(at, reason));
    }
    Ok(Node::Seq { tokens, prefix })
}

fn collapse(mut children: Vec<Node>, make: fn(Vec<Node>) -> Node) -> Node {
    if children.len() == 1 {
        children.pop().expect("one child")
    } else {
        make(children)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expect: &str) {
        match parse(query) {
            Ok(node) => assert_eq!(node.to_string(), expect, "query {query:?}"),
            Err(Error::InvalidQuery { position, reason }) => {
                assert_eq!(format!("error at {position}: {reason}"), expect, "query {query:?}")
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn parses_the_documented_syntax() {
        check("connection refused", "(connection refused)");
        check("connection AND refused", "(connection refused)");
        check("\"connection refused\"", "\"connection refused\"");
        check("a OR b", "(a OR b)");
        check("a b OR c", "((a b) OR c)");
        check("a (b OR c)", "(a (b OR c))");
        check("NOT a", "NOT a");
        check("-a b", "(NOT a b)");
        check("-\"x y\" -(a OR b)", "(NOT \"x y\" NOT (a OR b))");
        check("NOT NOT a", "NOT NOT a");
        check("refus*", "refus*");
        check("Kube-Sys*", "\"kube sys*\"");
        check("\"connection ref*\"", "\"connection ref*\"");
        check("10.0.0.1:443", "\"10 0 0 1 443\"");
        check("or and not", "(or and not)");
        check("a-b", "\"a b\"");
        check("x - y", "error at 2: word \"-\" has no letters or digits to search for");
    }

    #[test]
    fn reports_errors_with_positions() {
        check("", "error at 0: empty query");
        check("   ", "error at 0: empty query");
        check("(a b", "error at 0: `(` is never closed");
        check("a b)", "error at 3: unmatched `)`");
        check("a ()", "error at 3: empty parentheses");
        check("\"open", "error at 0: unterminated quote");
        check("a OR", "error at 4: expected a word, a phrase or `(` at the end of the query");
        check("OR a", "error at 0: `OR` needs a term on each side");
        check("a AND OR b", "error at 6: `OR` needs a term on each side");
        check("*", "error at 0: prefix \"*\" needs a letter or digit before `*`");
        check("\"...\"", "error at 0: phrase \"...\" has no letters or digits to search for");
        check("NOT", "error at 3: expected a word, a phrase or `(` at the end of the query");
        check(&"(".repeat(100), "error at 64: query nests deeper than 64 levels");
        check(&"-".repeat(100), "error at 64: query nests deeper than 64 levels");
    }
}
