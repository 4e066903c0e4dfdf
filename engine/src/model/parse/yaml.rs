//! YAML input: split into documents at `---` / `...` lines, each document
//! parsed on its own with serde_norway.
//!
//! Splitting ourselves (rather than letting the YAML parser iterate
//! documents) gives each document its line number, lets a reader be consumed
//! document by document, and keeps a broken document from hiding the next
//! ones. It is exact: YAML forbids a `---` or `...` at the start of a line
//! inside a scalar, so such a line always is a document marker.

use std::fmt::Write as _;

use super::json::strip_location;
use super::locate::yaml_item_line;
use super::node::Node;
use super::records::{Ctx, Stop};

/// Accumulates the lines of one YAML document at a time.
#[derive(Debug, Default)]
pub(crate) struct YamlDocs {
    text: Vec<u8>,
    /// The input line of `text`'s first line.
    first_line: usize,
    /// The input line of the document's first content (not blank, not a
    /// comment); `None` while the document is empty.
    content_line: Option<usize>,
}

fn is_marker(line: &[u8], marker: &[u8; 3]) -> bool {
    line.starts_with(marker) && line.get(3).is_none_or(|c| c.is_ascii_whitespace())
}

fn has_content(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    !t.is_empty() && !t.starts_with(b"#")
}

impl YamlDocs {
    /// Feeds input line number `number` (1-based) with its line terminator
    /// (the last line of the input may have none).
    pub(crate) fn line(&mut self, ctx: &mut Ctx<'_>, number: usize, raw: &[u8]) -> Result<(), Stop> {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if is_marker(line, b"---") {
            self.finish(ctx)?;
            let rest = line.get(3..).unwrap_or_default();
            if has_content(rest) {
                // `--- {…}`: keep the content in place of the marker.
                self.first_line = number;
                self.content_line = Some(number);
                self.text.extend_from_slice(b"   ");
                self.text.extend_from_slice(rest);
                self.text.push(b'\n');
            }
            return Ok(());
        }
        if is_marker(line, b"...") {
            return self.finish(ctx);
        }
        if self.content_line.is_none() && line.starts_with(b"%") {
            return Ok(()); // a directive before the document
        }
        if self.text.is_empty() {
            self.first_line = number;
        }
        if self.content_line.is_none() && has_content(line) {
            self.content_line = Some(number);
        }
        // The line as it was, terminator included: a block scalar that keeps
        // trailing newlines (`|+`) must see exactly the input's.
        self.text.extend_from_slice(raw);
        Ok(())
    }

    /// Parses the pending document, if it has any content.
    pub(crate) fn finish(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Stop> {
        let result = match self.content_line.take() {
            None => Ok(()),
            Some(content_line) => match serde_norway::from_slice::<Node>(&self.text) {
                Ok(Node::Null) => Ok(()),
                Ok(value) => {
                    let (text, first_line) = (&self.text, self.first_line);
                    ctx.doc(value, Some(content_line), &mut |k| yaml_item_line(text, k).map(|l| first_line + l))
                }
                Err(e) => {
                    let mut message = format!("invalid YAML: {}", strip_location(e.to_string()));
                    if let Some(loc) = e.location() {
                        let line = self.first_line + loc.line().saturating_sub(1);
                        let _ = write!(message, " at line {line} column {}", loc.column());
                    }
                    ctx.error(Some(content_line), message)
                }
            },
        };
        self.text.clear();
        result
    }
}
