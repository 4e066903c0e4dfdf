//! Byte-level scanners: line numbers for error reports, found after the
//! fact, and the end of a JSON document in a growing buffer.
//!
//! serde_json does not tell where a value started, and looking it up for
//! every record would slow the happy path; so when a record fails, these
//! scanners find its first byte by skipping over the JSON (or YAML) before
//! it. They read input the parser has already accepted, never panic on
//! anything else, and keep a cursor so that many errors in one input cost
//! one pass, not one pass each. [`ValueEnd`] cuts a reader into top-level
//! JSON documents without parsing them.

/// Finds the start line of top-level JSON values and of their elements.
#[derive(Debug)]
pub(crate) struct JsonLocator<'a> {
    input: &'a [u8],
    first_line: usize,
    /// `(offset, line)`: the line of a byte offset already counted.
    line_at: (usize, usize),
    /// `(doc, offset)` of the last document located.
    doc_at: Option<(usize, usize)>,
    /// `(doc, item, offset)` of the last element located.
    item_at: Option<(usize, usize, usize)>,
}

impl<'a> JsonLocator<'a> {
    /// A locator for `input`, whose first byte is on line `first_line`.
    pub(crate) fn new(input: &'a [u8], first_line: usize) -> JsonLocator<'a> {
        JsonLocator { input, first_line, line_at: (0, first_line), doc_at: None, item_at: None }
    }

    fn line_of(&mut self, offset: usize) -> usize {
        let (from, mut line) = if offset >= self.line_at.0 { self.line_at } else { (0, self.first_line) };
        let end = offset.min(self.input.len());
        line += self.input.get(from..end).map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
        self.line_at = (end, line);
        line
    }

    fn doc_start(&mut self, doc: usize) -> Option<usize> {
        let b = self.input;
        let (mut d, mut pos) = match self.doc_at {
            Some((d, pos)) if d <= doc => (d, pos),
            _ => (0, skip_ws(b, 0)),
        };
        while d < doc {
            pos = skip_ws(b, skip_value(b, pos)?);
            d += 1;
        }
        self.doc_at = Some((doc, pos));
        Some(pos)
    }

    fn item_start(&mut self, doc: usize, item: usize) -> Option<usize> {
        let b = self.input;
        let (mut k, mut pos) = match self.item_at {
            Some((d, k, pos)) if d == doc && k <= item => (k, pos),
            _ => {
                let start = self.doc_start(doc)?;
                let open = match b.get(start)? {
                    b'[' => start,
                    b'{' => find_items_array(b, start)?,
                    _ => return None,
                };
                let first = skip_ws(b, open + 1);
                if b.get(first) == Some(&b']') {
                    return None;
                }
                (0, first)
            }
        };
        while k < item {
            let after = skip_ws(b, skip_value(b, pos)?);
            if b.get(after) != Some(&b',') {
                return None;
            }
            pos = skip_ws(b, after + 1);
            k += 1;
        }
        self.item_at = Some((doc, item, pos));
        Some(pos)
    }

    /// The line where the `doc`-th top-level value starts.
    pub(crate) fn doc_line(&mut self, doc: usize) -> Option<usize> {
        let pos = self.doc_start(doc)?;
        Some(self.line_of(pos))
    }

    /// The line where element `item` of document `doc` starts.
    pub(crate) fn item_line(&mut self, doc: usize, item: usize) -> Option<usize> {
        let pos = self.item_start(doc, item)?;
        Some(self.line_of(pos))
    }
}

pub(crate) fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while matches!(b.get(pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        pos += 1;
    }
    pos
}

/// `pos` is at an opening quote; returns the offset after the closing one.
fn skip_string(b: &[u8], mut pos: usize) -> Option<usize> {
    pos += 1;
    loop {
        match b.get(pos)? {
            b'"' => return Some(pos + 1),
            b'\\' => pos += 2,
            _ => pos += 1,
        }
    }
}

/// Returns the offset just after the JSON value starting at `pos`.
fn skip_value(b: &[u8], mut pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => skip_string(b, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match b.get(pos)? {
                    b'"' => {
                        pos = skip_string(b, pos)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(pos + 1);
                        }
                    }
                    _ => {}
                }
                pos += 1;
            }
        }
        _ => {
            while !matches!(b.get(pos), None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n')) {
                pos += 1;
            }
            Some(pos)
        }
    }
}

/// Finds where a JSON value ends in a buffer that grows by appending, so
/// that a reader can be cut into top-level documents; scanning resumes where
/// it stopped, so every byte is looked at once.
#[derive(Debug, Default)]
pub(crate) struct ValueEnd {
    pos: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl ValueEnd {
    /// `buf[start]` is the first byte of a value. Returns the offset just
    /// after the value once `buf` holds all of it (a scalar needs the byte
    /// after it too); `None` means "append more and call again".
    /// Malformed input ends somewhere (at the latest at the end of the
    /// input); the JSON parser then reports it.
    pub(crate) fn find(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        let first = *buf.get(start)?;
        if self.pos <= start {
            *self = ValueEnd { pos: start, ..ValueEnd::default() };
        }
        if !matches!(first, b'{' | b'[' | b'"') {
            // A scalar (or a stray byte: take at least that one).
            let from = self.pos.max(start + 1);
            let rest = buf.get(from..).unwrap_or_default();
            let delimiter = rest.iter().position(|b| b" \t\r\n,:]}[{\"".contains(b));
            return match delimiter {
                Some(i) => self.done(from + i),
                None => {
                    self.pos = buf.len();
                    None
                }
            };
        }
        loop {
            if self.in_string && !self.escaped {
                // Most bytes of a document are string contents: skip to the
                // next quote or backslash a word at a time.
                let rest = buf.get(self.pos..).unwrap_or_default();
                match find_quote_or_backslash(rest) {
                    Some(i) => self.pos += i,
                    None => {
                        self.pos = buf.len();
                        return None;
                    }
                }
            }
            let &b = buf.get(self.pos)?;
            self.pos += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return self.done(self.pos);
                    }
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return self.done(self.pos);
                    }
                }
                _ => {}
            }
        }
    }

    fn done(&mut self, end: usize) -> Option<usize> {
        *self = ValueEnd::default();
        Some(end)
    }

    /// The first `by` bytes of the buffer were dropped.
    pub(crate) fn shift(&mut self, by: usize) {
        self.pos = self.pos.saturating_sub(by);
    }
}

/// The index of the first `"` or `\\` in `s`, eight bytes at a time.
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Nonzero when some byte of `word` equals `byte` (the classic SWAR test).
    let has = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut skipped = 0;
    for chunk in s.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word);
        if has(word, b'"') | has(word, b'\\') != 0 {
            break;
        }
        skipped += 8;
    }
    let tail = s.get(skipped..).unwrap_or_default();
    tail.iter().position(|&b| b == b'"' || b == b'\\').map(|i| skipped + i)
}

/// `open` is at the `{` of an object; returns the offset of the `[` of its
/// `items` member.
fn find_items_array(b: &[u8], open: usize) -> Option<usize> {
    let mut pos = skip_ws(b, open + 1);
    loop {
        if b.get(pos)? != &b'"' {
            return None;
        }
        let key_end = skip_string(b, pos)?;
        let is_items = b.get(pos + 1..key_end - 1)? == b"items";
        pos = skip_ws(b, key_end);
        if b.get(pos)? != &b':' {
            return None;
        }
        pos = skip_ws(b, pos + 1);
        if is_items && b.get(pos) == Some(&b'[') {
            return Some(pos);
        }
        pos = skip_ws(b, skip_value(b, pos)?);
        if b.get(pos)? != &b',' {
            return None;
        }
        pos = skip_ws(b, pos + 1);
    }
}

/// The 0-based line, within a YAML document's text, where item `item` of
/// its list starts: of the root sequence, or of the `items:` sequence of a
/// root mapping (block style, as kubectl writes it).
pub(crate) fn yaml_item_line(text: &[u8], item: usize) -> Option<usize> {
    let mut in_list = false;
    let mut seen_content = false;
    let mut indent: Option<usize> = None;
    let mut k = 0;
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let ind = raw.iter().take_while(|&&c| c == b' ').count();
        let content = raw.get(ind..).unwrap_or_default().trim_ascii_end();
        if content.is_empty() || content.starts_with(b"#") {
            continue;
        }
        let is_dash = content == b"-" || content.starts_with(b"- ");
        if !in_list {
            let root_sequence = !seen_content && is_dash;
            seen_content = true;
            if ind == 0 && content.starts_with(b"items:") {
                in_list = true;
                continue;
            }
            if !root_sequence {
                continue;
            }
            in_list = true;
        }
        match indent {
            None if is_dash => indent = Some(ind),
            None => return None,
            Some(n) if ind < n || (ind == n && !is_dash) => return None,
            Some(_) => {}
        }
        if is_dash && indent == Some(ind) {
            if k == item {
                return Some(i);
            }
            k += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_items_are_found_in_lists_arrays_and_later_documents() {
        let input = b"{\"kind\": \"List\", \"meta\": {\"items\": 1},\n \"items\": [\n  {\"a\": \"]\\\"\"},\n  {\"b\": [1, 2]}\n]}\n[\n 1,\n {}\n]";
        let mut loc = JsonLocator::new(input, 11);
        assert_eq!(loc.doc_line(0), Some(11));
        assert_eq!(loc.item_line(0, 0), Some(13));
        assert_eq!(loc.item_line(0, 1), Some(14));
        assert_eq!(loc.item_line(0, 2), None);
        assert_eq!(loc.doc_line(1), Some(16));
        assert_eq!(loc.item_line(1, 1), Some(18));
        assert_eq!(loc.item_line(0, 1), Some(14), "going back restarts the scan");
    }

    #[test]
    fn value_ends_are_found_across_appends() {
        let input = br#"{"a": "}\"", "b": [1, {}]} "x" 12 ]"#;
        for split in 0..input.len() {
            let mut buf = input[..split].to_vec();
            let mut scan = ValueEnd::default();
            let mut found = scan.find(&buf, 0);
            if found.is_none() {
                buf.extend_from_slice(&input[split..]);
                found = scan.find(&buf, 0);
            }
            assert_eq!(found, Some(26), "split at {split}");
        }
        let mut scan = ValueEnd::default();
        assert_eq!(scan.find(input, 27), Some(30));
        assert_eq!(scan.find(input, 31), Some(33));
        assert_eq!(scan.find(input, 34), None, "a stray byte waits for a delimiter");
        assert_eq!(ValueEnd::default().find(b"] x", 0), Some(1), "a stray byte is a value of its own");
        let long = br#"["0123456789abcdef\"0123456789abcdef\\", "x"] "#;
        assert_eq!(ValueEnd::default().find(long, 0), Some(long.len() - 1));
        assert_eq!(find_quote_or_backslash(b"0123456789\"x"), Some(10));
        assert_eq!(find_quote_or_backslash(b"01234567890123"), None);
        assert_eq!(scan.find(b"12", 0), None, "a number may go on");
    }

    #[test]
    fn yaml_items_are_found_at_the_list_indentation() {
        let text = b"apiVersion: v1\nitems:\n- a: 1\n  b:\n  - nested\n- a: 2\nkind: List\n";
        assert_eq!(yaml_item_line(text, 0), Some(2));
        assert_eq!(yaml_item_line(text, 1), Some(5));
        assert_eq!(yaml_item_line(text, 2), None);
        assert_eq!(yaml_item_line(b"# c\n- x: 1\n-  y\n", 1), Some(2));
        assert_eq!(yaml_item_line(b"items: []\nkind: List\n", 0), None);
    }
}
