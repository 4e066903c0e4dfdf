//! How a field's values (the keys of its postings) are stored: as strings, or,
//! when every value is a canonical UUID (as `metadata.uid` always is), as 16
//! bytes each — 36-byte strings are most of the uid field's size otherwise.

/// A field's key encoding, written in its directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEncoding {
    /// UTF-8 strings in a pool, found through each entry's end offset.
    Strings = 0,
    /// Every value is a canonical UUID, stored as 16 bytes.
    Uuids = 1,
    /// The first value is the empty string (no key bytes), the rest are UUIDs.
    EmptyThenUuids = 2,
}

impl KeyEncoding {
    pub(crate) fn from_code(code: u32) -> Option<KeyEncoding> {
        [KeyEncoding::Strings, KeyEncoding::Uuids, KeyEncoding::EmptyThenUuids].into_iter().find(|e| *e as u32 == code)
    }

    /// The encoding for `values` (sorted, distinct).
    pub(crate) fn choose<'v>(values: impl Iterator<Item = &'v str> + Clone) -> KeyEncoding {
        let mut rest = values.clone().skip_while(|v| v.is_empty()).peekable();
        if rest.peek().is_none() || !rest.all(|v| parse_uuid(v).is_some()) {
            return KeyEncoding::Strings;
        }
        match values.clone().next() {
            Some("") => KeyEncoding::EmptyThenUuids,
            _ => KeyEncoding::Uuids,
        }
    }

    /// Bytes per entry.
    pub(crate) fn entry_len(self) -> usize {
        match self {
            KeyEncoding::Strings => 12,
            KeyEncoding::Uuids | KeyEncoding::EmptyThenUuids => 8,
        }
    }

    /// Number of leading entries without key bytes (the empty string).
    pub(crate) fn leading_empty(self) -> usize {
        usize::from(self == KeyEncoding::EmptyThenUuids)
    }
}

/// Bytes of a UUID key.
pub(crate) const UUID_LEN: usize = 16;

/// The 16 bytes of `s` when it is a canonical UUID: 36 characters, lowercase
/// hex digits in groups of 8-4-4-4-12 separated by `-`. Byte order follows the
/// text, so keys sort exactly as their strings do.
pub(crate) fn parse_uuid(s: &str) -> Option<[u8; UUID_LEN]> {
    let text = s.as_bytes();
    if text.len() != 36 || [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut digits = text.iter().copied().filter(|&c| c != b'-');
    let mut key = [0u8; UUID_LEN];
    for byte in &mut key {
        *byte = nibble(digits.next()?)? << 4 | nibble(digits.next()?)?;
    }
    Some(key)
}

/// The canonical text of a UUID key.
pub(crate) fn format_uuid(key: &[u8; UUID_LEN]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(36);
    for (i, byte) in key.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_uuids_round_trip_and_keep_their_order() {
        let a = "0a1b2c3d-4e5f-4789-8abc-def012345678";
        let b = "0a1b2c3d-4e5f-4789-8abc-def012345679";
        let c = "f0000000-0000-4000-8000-000000000000";
        for s in [a, b, c] {
            assert_eq!(format_uuid(&parse_uuid(s).expect("canonical")), s);
        }
        assert!(parse_uuid(a) < parse_uuid(b) && parse_uuid(b) < parse_uuid(c));
    }

    #[test]
    fn non_canonical_spellings_are_not_uuids() {
        for s in [
            "",
            "0A1B2C3D-4E5F-4789-8ABC-DEF012345678",
            "0a1b2c3d4e5f47898abcdef012345678",
            "0a1b2c3d-4e5f-4789-8abc-def01234567",
            "0a1b2c3d-4e5f-4789-8abc-def0123456789",
            "0a1b2c3d-4e5f-4789-8abc_def012345678",
            "0a1b2c3d-4e5f-4789-8abc-def01234567g",
            "é1b2c3d-4e5f-4789-8abc-def012345678",
        ] {
            assert_eq!(parse_uuid(s), None, "{s:?}");
        }
    }

    #[test]
    fn encoding_is_chosen_per_field() {
        let uuid = "0a1b2c3d-4e5f-4789-8abc-def012345678";
        let choose = |values: &[&str]| KeyEncoding::choose(values.iter().copied());
        assert_eq!(choose(&[uuid]), KeyEncoding::Uuids);
        assert_eq!(choose(&["", uuid]), KeyEncoding::EmptyThenUuids);
        assert_eq!(choose(&["", "x", uuid]), KeyEncoding::Strings);
        assert_eq!(choose(&[""]), KeyEncoding::Strings);
        assert_eq!(choose(&[]), KeyEncoding::Strings);
        assert_eq!(KeyEncoding::from_code(2), Some(KeyEncoding::EmptyThenUuids));
        assert_eq!(KeyEncoding::from_code(3), None);
    }
}
