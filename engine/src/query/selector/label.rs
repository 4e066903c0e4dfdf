//! Label selectors: `k8s.io/apimachinery/pkg/labels.Parse`, its byte lexer,
//! recursive-descent parser and `NewRequirement` validation, reproduced
//! step for step so that the same inputs pass and fail with the same text.
//!
//! Grammar: requirements separated by `,` (AND), each one of `key`,
//! `!key`, `key=v`, `key==v`, `key!=v`, `key in (v,…)`, `key notin (v,…)`,
//! `key>n`, `key<n`. Blanks (space, tab, CR, LF) separate tokens and are
//! otherwise ignored. Notable corners, all from the Go code:
//! - a NUL byte ends the selector when it is where a token would start, and
//!   separates tokens inside one (Go's lexer reads it as end of input);
//! - `in` and `notin` are keywords only in operator position: `in=x`,
//!   `a=in` and `a in (in)` are fine;
//! - values are a set: `a in (y,x,x)` is `a in (x,y)`; `()` and empty list
//!   items stand for the empty value; `a=` is `a` equal to the empty value;
//! - keys must be label keys (optional DNS-subdomain prefix and `/`, name of
//!   at most 63 characters), values label values (at most 63 characters);
//!   `>`/`<` values must parse as 64-bit integers *and* be label values, so
//!   `a>-1` is rejected;
//! - requirements come out sorted by key (stable).

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::query::{LabelOp, LabelRequirement};

use super::error::{SelectorError, SelectorErrorKind};
use super::gofmt::{go_string_slice, quote};

/// Parses a label selector (`app=web`, `tier!=db`, `env in (prod,stage)`,
/// `env notin (dev)`, `canary`, `!canary`, `replicas>2`; comma = AND) as the
/// API server does. `=`, `==` and `in` give [`LabelOp::In`], `!=` and
/// `notin` [`LabelOp::NotIn`] (values sorted, without duplicates); the
/// requirements are sorted by key. An empty or blank selector selects
/// everything (no requirements).
///
/// # Errors
///
/// [`SelectorErrorKind::InvalidLabelSelector`] with the API server's
/// message, e.g. `found ',', expected: !, identifier, or 'end of string'` or
/// `unable to parse requirement: <nil>: Invalid value: "a b": …`.
pub fn parse_label_selector(selector: &str) -> Result<Vec<LabelRequirement>, SelectorError> {
    let mut parser = Parser { items: Lexer::new(selector).scan(), position: 0 };
    let mut requirements =
        parser.parse().map_err(|message| SelectorError::new(SelectorErrorKind::InvalidLabelSelector, message))?;
    requirements.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(requirements)
}

// ---- lexer ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// `string2token`: the literal tokens.
fn literal_token(s: &str) -> Option<Tok> {
    Some(match s {
        ")" => Tok::ClosedPar,
        "," => Tok::Comma,
        "!" => Tok::DoesNotExist,
        "==" => Tok::DoubleEquals,
        "=" => Tok::Equals,
        ">" => Tok::GreaterThan,
        "in" => Tok::In,
        "<" => Tok::LessThan,
        "!=" => Tok::NotEquals,
        "notin" => Tok::NotIn,
        "(" => Tok::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

#[derive(Clone, Debug)]
struct Item<'a> {
    tok: Tok,
    literal: Cow<'a, str>,
}

/// The Go lexer: works on bytes; `read` yields 0 at the end of input (and
/// for a NUL byte, which it consumes).
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Lexer<'a> {
        Lexer { s, pos: 0 }
    }

    fn read(&mut self) -> u8 {
        match self.s.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    /// Every token including the final end-of-string.
    fn scan(mut self) -> Vec<Item<'a>> {
        let mut items = Vec::new();
        loop {
            let item = self.lex();
            let end = item.tok == Tok::EndOfString;
            items.push(item);
            if end {
                return items;
            }
        }
    }

    fn lex(&mut self) -> Item<'a> {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return Item { tok: Tok::EndOfString, literal: Cow::Borrowed("") };
        }
        self.unread();
        if is_special_symbol(ch) {
            self.scan_special_symbol()
        } else {
            self.scan_id_or_keyword()
        }
    }

    /// Token boundaries are always next to ASCII bytes, so slices are on
    /// character boundaries; `get` keeps this panic-free regardless.
    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.s.get(start..end).unwrap_or("")
    }

    fn scan_id_or_keyword(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut end = start;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special_symbol(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            end = self.pos;
        }
        let literal = self.slice(start, end);
        Item { tok: literal_token(literal).unwrap_or(Tok::Identifier), literal: Cow::Borrowed(literal) }
    }

    /// The longest run of special symbols that is still a token.
    fn scan_special_symbol(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut end = start;
        let mut last: Option<(Tok, &'a str)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special_symbol(ch) {
                self.unread();
                break;
            }
            end = self.pos;
            let buffer = self.slice(start, end);
            if let Some(tok) = literal_token(buffer) {
                last = Some((tok, buffer));
            } else if last.is_some() {
                self.unread();
                break;
            }
        }
        match last {
            Some((tok, literal)) => Item { tok, literal: Cow::Borrowed(literal) },
            None => Item {
                tok: Tok::Error,
                literal: Cow::Owned(format!("error expected: keyword found '{}'", self.slice(start, end))),
            },
        }
    }
}

// ---- parser ----

/// `in`/`notin` are identifiers where values are expected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

struct Parser<'a> {
    items: Vec<Item<'a>>,
    position: usize,
}

impl<'a> Parser<'a> {
    /// The item at `index`; past the end, the final end-of-string (the Go
    /// parser never reads past it, this only keeps indexing total).
    fn at(&self, index: usize) -> (Tok, Cow<'a, str>) {
        match self.items.get(index).or_else(|| self.items.last()) {
            Some(item) => (item.tok, item.literal.clone()),
            None => (Tok::EndOfString, Cow::Borrowed("")),
        }
    }

    fn in_context(tok: Tok, context: Context) -> Tok {
        match tok {
            Tok::In | Tok::NotIn if context == Context::Values => Tok::Identifier,
            _ => tok,
        }
    }

    fn lookahead(&self, context: Context) -> (Tok, Cow<'a, str>) {
        let (tok, literal) = self.at(self.position);
        (Self::in_context(tok, context), literal)
    }

    fn consume(&mut self, context: Context) -> (Tok, Cow<'a, str>) {
        let (tok, literal) = self.at(self.position);
        self.position += 1;
        (Self::in_context(tok, context), literal)
    }

    fn parse(&mut self) -> Result<Vec<LabelRequirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, literal) = self.lookahead(Context::Values);
            match tok {
                Tok::Identifier | Tok::DoesNotExist => {
                    let requirement =
                        self.parse_requirement().map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(requirement);
                    let (tok, literal) = self.consume(Context::Values);
                    match tok {
                        Tok::EndOfString => return Ok(requirements),
                        Tok::Comma => {
                            let (next, next_literal) = self.lookahead(Context::Values);
                            if next != Tok::Identifier && next != Tok::DoesNotExist {
                                return Err(format!("found '{next_literal}', expected: identifier after ','"));
                            }
                        }
                        _ => return Err(format!("found '{literal}', expected: ',' or 'end of string'")),
                    }
                }
                Tok::EndOfString => return Ok(requirements),
                _ => return Err(format!("found '{literal}', expected: !, identifier, or 'end of string'")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<LabelRequirement, String> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = operator {
            return new_requirement(key, op, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        new_requirement(key, operator, values.into_iter().collect())
    }

    /// The key, with `!` before it (does-not-exist) or nothing after it
    /// (exists) inferred; `None` when an operator must follow.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Context::Values);
        if tok == Tok::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Context::Values);
        }
        if tok != Tok::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        let key_errors = label_key_errors(&literal);
        if !key_errors.is_empty() {
            // The parser has no field path: Go prints the nil path as `<nil>`.
            return Err(invalid_value("<nil>", &literal, &key_errors.join("; ")));
        }
        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Tok::EndOfString | Tok::Comma) && operator != Some(Operator::DoesNotExist) {
            operator = Some(Operator::Exists);
        }
        Ok((literal.into_owned(), operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, literal) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Tok::In => Operator::In,
            Tok::Equals => Operator::Equals,
            Tok::DoubleEquals => Operator::DoubleEquals,
            Tok::GreaterThan => Operator::GreaterThan,
            Tok::LessThan => Operator::LessThan,
            Tok::NotIn => Operator::NotIn,
            Tok::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{literal}', expected: in, notin, =, ==, !=, gt, lt")),
        })
    }

    /// `(v1,v2,…)`.
    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, literal) = self.consume(Context::Values);
        if tok != Tok::OpenPar {
            return Err(format!("found '{literal}' expected: '('"));
        }
        let (tok, literal) = self.lookahead(Context::Values);
        match tok {
            Tok::Identifier | Tok::Comma => {
                let values = self.parse_identifiers_list()?;
                let (tok, _) = self.consume(Context::Values);
                if tok != Tok::ClosedPar {
                    return Err(format!("found '{literal}', expected: ')'"));
                }
                Ok(values)
            }
            Tok::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{literal}', expected: ',', ')' or identifier")),
        }
    }

    /// A comma-separated list of possibly empty identifiers, up to (not
    /// including) the closing parenthesis.
    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut values = BTreeSet::new();
        loop {
            let (tok, literal) = self.consume(Context::Values);
            match tok {
                Tok::Identifier => {
                    values.insert(literal.into_owned());
                    let (next, next_literal) = self.lookahead(Context::Values);
                    match next {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(values),
                        _ => return Err(format!("found '{next_literal}', expected: ',' or ')'")),
                    }
                }
                Tok::Comma => {
                    if values.is_empty() {
                        values.insert(String::new()); // `(,`
                    }
                    match self.lookahead(Context::Values).0 {
                        Tok::ClosedPar => {
                            values.insert(String::new()); // `,)`
                            return Ok(values);
                        }
                        Tok::Comma => {
                            values.insert(String::new()); // `,,`
                        }
                        _ => {}
                    }
                }
                _ => return Err(format!("found '{literal}', expected: ',', or identifier")),
            }
        }
    }

    /// The single value of `=`, `==`, `!=`, `>`, `<`: empty when the
    /// requirement ends right after the operator.
    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        if matches!(self.lookahead(Context::Values).0, Tok::EndOfString | Tok::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, literal) = self.consume(Context::Values);
        if tok == Tok::Identifier {
            return Ok(BTreeSet::from([literal.into_owned()]));
        }
        Err(format!("found '{literal}', expected: identifier"))
    }
}

// ---- NewRequirement: validation and the typed requirement ----

/// `labels.NewRequirement` with the parser's (nil) field path: validates
/// the key, the number of values for the operator, integers for `>`/`<`,
/// and every value (in sorted order); errors are aggregated like Go's
/// `ErrorList.ToAggregate`.
fn new_requirement(key: String, operator: Operator, values: Vec<String>) -> Result<LabelRequirement, String> {
    let mut errors = Vec::new();
    let key_errors = label_key_errors(&key);
    if !key_errors.is_empty() {
        errors.push(invalid_value("key", &key, &key_errors.join("; ")));
    }
    let mut integer = None;
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => errors.push(format!(
            "values: Invalid value: {}: for 'in', 'notin' operators, values set can't be empty",
            go_string_slice(&values)
        )),
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => errors.push(format!(
            "values: Invalid value: {}: exact-match compatibility requires one single value",
            go_string_slice(&values)
        )),
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errors.push(format!(
            "values: Invalid value: {}: values set must be empty for exists and does not exist",
            go_string_slice(&values)
        )),
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                errors.push(format!(
                    "values: Invalid value: {}: for 'Gt', 'Lt' operators, exactly one value is required",
                    go_string_slice(&values)
                ));
            }
            for (i, value) in values.iter().enumerate() {
                // Go's strconv.ParseInt(v, 10, 64): optional sign, ASCII digits, in range.
                match value.parse::<i64>() {
                    Ok(n) => integer = integer.or(Some(n)),
                    Err(_) => errors.push(invalid_value(
                        &format!("values[{i}]"),
                        value,
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    )),
                }
            }
        }
        _ => {}
    }
    for (i, value) in values.iter().enumerate() {
        let value_errors = label_value_errors(value);
        if !value_errors.is_empty() {
            errors.push(invalid_value(&format!("values[{i}][{key}]"), value, &value_errors.join("; ")));
        }
    }
    if let Some(message) = aggregate(errors) {
        return Err(message);
    }
    let op = match (operator, integer) {
        (Operator::Exists, _) => LabelOp::Exists,
        (Operator::DoesNotExist, _) => LabelOp::DoesNotExist,
        (Operator::In | Operator::Equals | Operator::DoubleEquals, _) => LabelOp::In(values),
        (Operator::NotIn | Operator::NotEquals, _) => LabelOp::NotIn(values),
        (Operator::GreaterThan, Some(n)) => LabelOp::GreaterThan(n),
        (Operator::LessThan, Some(n)) => LabelOp::LessThan(n),
        // Unreachable: without an integer the checks above reported an error.
        (Operator::GreaterThan | Operator::LessThan, None) => {
            return Err("for 'Gt', 'Lt' operators, the value must be an integer".to_owned())
        }
    };
    Ok(LabelRequirement { key, op })
}

/// `field.Invalid(path, value, detail).Error()`.
fn invalid_value(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", quote(value))
}

/// `utilerrors.Aggregate.Error()`: one message as is, several (distinct)
/// as `[a, b]`.
fn aggregate(errors: Vec<String>) -> Option<String> {
    let mut distinct: Vec<String> = Vec::with_capacity(errors.len());
    for error in errors {
        if !distinct.contains(&error) {
            distinct.push(error);
        }
    }
    match distinct.len() {
        0 => None,
        1 => distinct.pop(),
        _ => Some(format!("[{}]", distinct.join(", "))),
    }
}

// ---- label key and value validation (k8s.io/apimachinery/pkg/api/validate/content) ----

const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_KEY_EXAMPLES: &[&str] = &["MyName", "my.name", "123-abc"];
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_EXAMPLES: &[&str] = &["MyValue", "my_value", "12345"];
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const NAME_MAX: usize = 63;
const LABEL_VALUE_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;

/// `validation.RegexError`, including Go's doubled space before ` or `.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, byte-wise.
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`.
fn is_dns1123_subdomain(s: &str) -> bool {
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.split('.').all(|label| {
        let b = label.as_bytes();
        match (b.first(), b.last()) {
            (Some(first), Some(last)) => {
                lower_alnum(first) && lower_alnum(last) && b.iter().all(|c| lower_alnum(c) || *c == b'-')
            }
            _ => false,
        }
    })
}

/// `content.IsLabelKey`: `[prefix/]name`.
fn label_key_errors(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let name = match value.split_once('/') {
        None => value,
        Some((_, suffix)) if suffix.contains('/') => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR, LABEL_KEY_FMT, LABEL_KEY_EXAMPLES)
            )];
        }
        Some((prefix, suffix)) => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_owned());
            } else {
                if prefix.len() > DNS1123_SUBDOMAIN_MAX {
                    errors.push(format!("prefix part {}", max_len_error(DNS1123_SUBDOMAIN_MAX)));
                }
                if !is_dns1123_subdomain(prefix) {
                    errors.push(format!(
                        "prefix part {}",
                        regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"])
                    ));
                }
            }
            suffix
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_owned());
    } else if name.len() > NAME_MAX {
        errors.push(format!("name part {}", max_len_error(NAME_MAX)));
    }
    if !is_label_name(name) {
        errors.push(format!("name part {}", regex_error(LABEL_KEY_ERR, LABEL_KEY_FMT, LABEL_KEY_EXAMPLES)));
    }
    errors
}

/// `validation.IsValidLabelValue`.
fn label_value_errors(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        errors.push(max_len_error(LABEL_VALUE_MAX));
    }
    if !value.is_empty() && !is_label_name(value) {
        errors.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, LABEL_VALUE_EXAMPLES));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<(Tok, String)> {
        Lexer::new(s).scan().into_iter().map(|i| (i.tok, i.literal.into_owned())).collect()
    }

    #[test]
    fn lexer_matches_the_go_lexer() {
        use Tok::*;
        let t = |tok: Tok, lit: &str| (tok, lit.to_owned());
        let cases: Vec<(&str, Vec<(Tok, String)>)> = vec![
            ("", vec![t(EndOfString, "")]),
            (" \t\r\n", vec![t(EndOfString, "")]),
            ("a=b", vec![t(Identifier, "a"), t(Equals, "="), t(Identifier, "b"), t(EndOfString, "")]),
            ("a==b", vec![t(Identifier, "a"), t(DoubleEquals, "=="), t(Identifier, "b"), t(EndOfString, "")]),
            ("a!=b", vec![t(Identifier, "a"), t(NotEquals, "!="), t(Identifier, "b"), t(EndOfString, "")]),
            (
                "a===b",
                vec![t(Identifier, "a"), t(DoubleEquals, "=="), t(Equals, "="), t(Identifier, "b"), t(EndOfString, "")],
            ),
            ("!!a", vec![t(DoesNotExist, "!"), t(DoesNotExist, "!"), t(Identifier, "a"), t(EndOfString, "")]),
            (
                "x in (a,b)",
                vec![
                    t(Identifier, "x"),
                    t(In, "in"),
                    t(OpenPar, "("),
                    t(Identifier, "a"),
                    t(Comma, ","),
                    t(Identifier, "b"),
                    t(ClosedPar, ")"),
                    t(EndOfString, ""),
                ],
            ),
            (
                "x notin()",
                vec![t(Identifier, "x"), t(NotIn, "notin"), t(OpenPar, "("), t(ClosedPar, ")"), t(EndOfString, "")],
            ),
            (
                "a>1,b<2",
                vec![
                    t(Identifier, "a"),
                    t(GreaterThan, ">"),
                    t(Identifier, "1"),
                    t(Comma, ","),
                    t(Identifier, "b"),
                    t(LessThan, "<"),
                    t(Identifier, "2"),
                    t(EndOfString, ""),
                ],
            ),
            ("a\0b", vec![t(Identifier, "a"), t(Identifier, "b"), t(EndOfString, "")]),
            ("a \0b", vec![t(Identifier, "a"), t(EndOfString, "")]),
            ("a=\0b", vec![t(Identifier, "a"), t(Equals, "="), t(Identifier, "b"), t(EndOfString, "")]),
            ("é=ü", vec![t(Identifier, "é"), t(Equals, "="), t(Identifier, "ü"), t(EndOfString, "")]),
        ];
        for (input, want) in cases {
            assert_eq!(tokens(input), want, "lex({input:?})");
        }
    }

    #[test]
    fn new_requirement_reports_every_rule_like_go() {
        let cases: Vec<(&str, Operator, Vec<&str>, &str)> = vec![
            (
                "a",
                Operator::In,
                vec![],
                "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
            ),
            (
                "a",
                Operator::Equals,
                vec!["x", "y"],
                r#"values: Invalid value: []string{"x", "y"}: exact-match compatibility requires one single value"#,
            ),
            (
                "a",
                Operator::Exists,
                vec!["x"],
                r#"values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist"#,
            ),
            (
                "a",
                Operator::GreaterThan,
                vec!["1", "2"],
                r#"values: Invalid value: []string{"1", "2"}: for 'Gt', 'Lt' operators, exactly one value is required"#,
            ),
            (
                "",
                Operator::Exists,
                vec![],
                r#"key: Invalid value: "": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
            ),
        ];
        for (key, op, values, want) in cases {
            let values = values.into_iter().map(String::from).collect();
            let got = new_requirement(key.to_owned(), op, values).expect_err(want);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn aggregate_deduplicates_and_brackets() {
        assert_eq!(aggregate(vec![]), None);
        assert_eq!(aggregate(vec!["a".into()]), Some("a".into()));
        assert_eq!(aggregate(vec!["a".into(), "a".into()]), Some("a".into()));
        assert_eq!(aggregate(vec!["a".into(), "b".into(), "a".into()]), Some("[a, b]".into()));
    }

    #[test]
    fn dns1123_subdomain() {
        for ok in ["a", "example.com", "a-b.c0", "0.0"] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in ["", ".", "a.", ".a", "a..b", "-a", "a-", "A", "a_b", "é"] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
    }
}
