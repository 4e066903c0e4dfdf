//! The one tokenizer of full-text search, used for indexing, for query words
//! and by [`TextQuery::matches`](super::TextQuery::matches) — which is why an
//! index search and a brute-force match agree exactly.
//!
//! A token is a maximal run of alphanumeric characters (Unicode
//! `char::is_alphanumeric`), lowercased character by character
//! (`char::to_lowercase`), cut to at most [`MAX_TOKEN_BYTES`] bytes on a
//! character boundary. Everything else separates tokens, so
//! `10.0.0.1:8080` is `10 0 0 1 8080` and `kube-system/coredns` is
//! `kube system coredns`.

/// Longest token kept, in bytes; longer runs are cut (both when indexing and
/// when querying, so a long query word still matches the text it came from).
pub(crate) const MAX_TOKEN_BYTES: usize = 128;

/// Calls `emit` with each token of `text`, in order.
pub(crate) fn for_each_token(text: &str, mut emit: impl FnMut(&str)) {
    let mut token = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            // Stop growing once past the cap; the cut below lands on a boundary.
            if token.len() <= MAX_TOKEN_BYTES {
                if c.is_ascii() {
                    token.push(c.to_ascii_lowercase());
                } else {
                    token.extend(c.to_lowercase());
                }
            }
        } else if !token.is_empty() {
            finish(&mut token, &mut emit);
        }
    }
    if !token.is_empty() {
        finish(&mut token, &mut emit);
    }
}

fn finish(token: &mut String, emit: &mut impl FnMut(&str)) {
    if token.len() > MAX_TOKEN_BYTES {
        let mut cut = MAX_TOKEN_BYTES;
        while !token.is_char_boundary(cut) {
            cut -= 1;
        }
        token.truncate(cut);
    }
    emit(token);
    token.clear();
}

/// The tokens of `text`, in order.
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for_each_token(text, |t| tokens.push(t.to_owned()));
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_non_alphanumerics_and_lowercases() {
        assert_eq!(
            tokenize("Readiness probe failed: Get \"https://10.42.0.3:10250/readyz\": dial tcp"),
            ["readiness", "probe", "failed", "get", "https", "10", "42", "0", "3", "10250", "readyz", "dial", "tcp"]
        );
        assert_eq!(tokenize("kube-system/CoreDNS_x"), ["kube", "system", "coredns", "x"]);
        assert_eq!(tokenize("Größe ÄNDERN"), ["größe", "ändern"]);
        assert!(tokenize("  --- :: ").is_empty());
        assert!(tokenize("").is_empty());
    }

    #[test]
    fn long_tokens_are_cut_on_a_character_boundary() {
        let long = "é".repeat(100); // 200 bytes
        let tokens = tokenize(&format!("a {long} b"));
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[1].len(), MAX_TOKEN_BYTES);
        assert!(tokens[1].chars().all(|c| c == 'é'));
        assert_eq!(tokenize(&"x".repeat(1000))[0].len(), MAX_TOKEN_BYTES);
    }
}
