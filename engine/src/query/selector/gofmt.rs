//! The bits of Go formatting that show up in the API server's selector
//! errors: `%q` (`strconv.Quote`) and `%#v` of a `[]string`.

/// Go's `strconv.Quote`, as `fmt`'s `%q` prints a string: double quotes,
/// `\"` and `\\`, the C escapes `\a \b \f \n \r \t \v`, other ASCII control
/// bytes as `\xNN`, non-printable code points as `\uNNNN` / `\UNNNNNNNN`,
/// and every printable character (letters, marks, numbers, punctuation,
/// symbols, ASCII space) as itself.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ if is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            _ if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `unicode.IsPrint`: general categories L, M, N, P, S plus U+0020.
///
/// Rust's `Debug` escaping leaves exactly those characters unescaped when
/// they do not start the string (it escapes Cc, Cf, Cs, Co, Cn, Zl, Zp and
/// Zs other than the space), so that is used for everything beyond ASCII.
fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 8];
    buf[0] = b'a';
    let len = 1 + c.encode_utf8(&mut buf[1..]).len();
    match std::str::from_utf8(&buf[..len]) {
        Ok(s) => s.escape_debug().eq(s.chars()),
        Err(_) => false,
    }
}

/// `fmt.Sprintf("%#v", []string{...})`: `[]string{"a", "b"}`.
pub(super) fn go_string_slice(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go_strconv_quote() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("app", r#""app""#),
            ("a b", r#""a b""#),
            ("say \"hi\"", r#""say \"hi\"""#),
            ("back\\slash", r#""back\\slash""#),
            ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
            ("\u{1}\u{1f}\u{7f}", r#""\x01\x1f\x7f""#),
            ("héllo wörld", "\"héllo wörld\""),
            ("日本", "\"日本\""),
            ("e\u{301}", "\"e\u{301}\""),
            ("\u{301}", "\"\u{301}\""),
            ("\u{a0}", r#""\u00a0""#),
            ("\u{ad}", r#""\u00ad""#),
            ("\u{200b}", r#""\u200b""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{2028}", r#""\u2028""#),
            ("\u{e000}", r#""\ue000""#),
            ("\u{80}", r#""\u0080""#),
            ("😀", "\"😀\""),
            ("\u{e0001}", r#""\U000e0001""#),
            ("\u{10ffff}", r#""\U0010ffff""#),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), *want, "quote({input:?})");
        }
    }

    #[test]
    fn go_string_slice_matches_percent_sharp_v() {
        assert_eq!(go_string_slice(&[]), "[]string{}");
        assert_eq!(go_string_slice(&["a".into()]), r#"[]string{"a"}"#);
        assert_eq!(go_string_slice(&["a".into(), "".into()]), r#"[]string{"a", ""}"#);
    }
}
