//! `PostingsReader`: zero-copy lookups in a postings blob (layout in the parent
//! module's header). Opening reads the header and field directory only; every
//! offset is bounds-checked, so a damaged blob yields [`Error::Corrupt`].

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use super::keys::{format_uuid, parse_uuid, KeyEncoding, UUID_LEN};
use super::{Field, DIR_ENTRY_LEN, HEADER_LEN, MAGIC, VERSION};
use crate::payload::{le_u32, read_payload, PayloadRef};
use crate::posting::Posting;
use crate::{Blob, Error};

/// Reads a postings blob in place.
#[derive(Clone, Copy)]
pub struct PostingsReader<'a> {
    bytes: &'a [u8],
    fields: [FieldDir<'a>; Field::COUNT],
}

/// One field's entry table and key pool.
#[derive(Clone, Copy)]
struct FieldDir<'a> {
    encoding: KeyEncoding,
    count: usize,
    entries_at: usize,
    entries: &'a [u8],
    pool_at: usize,
    pool: &'a [u8],
}

impl Default for FieldDir<'_> {
    fn default() -> Self {
        FieldDir { encoding: KeyEncoding::Strings, count: 0, entries_at: 0, entries: &[], pool_at: 0, pool: &[] }
    }
}

fn corrupt(offset: usize, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::corrupt(Blob::Postings, offset, expected, found)
}

impl<'a> PostingsReader<'a> {
    /// Opens a postings blob: checks the header and the field directory.
    ///
    /// For zero-copy lookups `bytes` should start at a [`POSTINGS_ALIGN`](super::POSTINGS_ALIGN)
    /// byte aligned address; otherwise bitmaps are copied on lookup.
    pub fn open(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(corrupt(0, format!("a {HEADER_LEN}-byte header"), format!("{} bytes", bytes.len())));
        }
        if bytes[..4] != MAGIC {
            return Err(corrupt(0, "magic KXPO", format!("{:02x?}", &bytes[..4])));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion { blob: Blob::Postings, version, supported: VERSION });
        }
        let field_count = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        let blob_len = le_u32(bytes, 8).unwrap_or_default() as usize;
        if blob_len != bytes.len() {
            return Err(corrupt(8, format!("blob length {}", bytes.len()), format!("{blob_len}")));
        }
        let mut fields = [FieldDir::default(); Field::COUNT];
        for (id, dir) in fields.iter_mut().enumerate().take(field_count) {
            *dir = FieldDir::parse(bytes, HEADER_LEN + id * DIR_ENTRY_LEN)?;
        }
        Ok(PostingsReader { bytes, fields })
    }

    fn dir(&self, field: Field) -> &FieldDir<'a> {
        &self.fields[usize::from(field.id())]
    }

    /// Number of distinct values of `field`.
    pub fn value_count(&self, field: Field) -> usize {
        self.dir(field).count
    }

    /// The rows whose `field` is `value`, viewed in place; `None` when no row has it.
    ///
    /// Costs a binary search over the field's values plus, for a bitmap, a
    /// validation pass over its containers (CRoaring's `internal_validate`),
    /// which keeps a damaged blob from ever reaching the set operations.
    pub fn get(&self, field: Field, value: &str) -> Result<Option<Posting<'a>>, Error> {
        let dir = self.dir(field);
        let found = match dir.encoding {
            KeyEncoding::Strings => dir.search(|i| Ok(dir.string_key(i)?.cmp(value.as_bytes())))?,
            encoding if value.is_empty() => (encoding == KeyEncoding::EmptyThenUuids && dir.count > 0).then_some(0),
            _ => match parse_uuid(value) {
                Some(key) => dir.search(|i| Ok(dir.uuid_key(i)?.cmp(&key)))?,
                None => None,
            },
        };
        found.map(|i| read_payload(self.bytes, dir.payload(i), Blob::Postings)).transpose()
    }

    /// Every value of `field` with its number of rows, in byte order of the
    /// values (for aggregations and top-N). Values stored as UUID keys are
    /// formatted back to text (hence `Cow`).
    ///
    /// Validates the field's key pool first (an error means the blob is
    /// damaged); the iteration itself cannot fail.
    pub fn values(&self, field: Field) -> Result<Values<'a>, Error> {
        let dir = *self.dir(field);
        let mut pool = "";
        if dir.encoding == KeyEncoding::Strings {
            pool = std::str::from_utf8(dir.pool)
                .map_err(|e| corrupt(dir.pool_at + e.valid_up_to(), "UTF-8 values", "invalid UTF-8"))?;
            for i in 0..dir.count {
                let (start, end) = dir.value_range(i)?;
                if !pool.is_char_boundary(start) || !pool.is_char_boundary(end) {
                    return Err(corrupt(dir.entry_at(i), "a value on UTF-8 boundaries", "a split character"));
                }
            }
        }
        Ok(Values { dir, pool, next: 0 })
    }
}

impl<'a> FieldDir<'a> {
    /// Reads and checks the directory entry at `at`.
    ///
    /// Entry: key encoding, value count, entries offset, pool offset, pool length (u32 each).
    fn parse(bytes: &'a [u8], at: usize) -> Result<Self, Error> {
        let word = |i: usize| {
            le_u32(bytes, at + 4 * i)
                .map(|n| n as usize)
                .ok_or_else(|| corrupt(at, "a field directory entry", format!("end of blob at {}", bytes.len())))
        };
        let encoding =
            KeyEncoding::from_code(word(0)? as u32).ok_or_else(|| corrupt(at, "key encoding 0, 1 or 2", "another"))?;
        let (count, entries_at, pool_at, pool_len) = (word(1)?, word(2)?, word(3)?, word(4)?);
        let entries = count
            .checked_mul(encoding.entry_len())
            .and_then(|len| bytes.get(entries_at..entries_at.checked_add(len)?))
            .ok_or_else(|| corrupt(at, "an entry table inside the blob", format!("{count} entries at {entries_at}")))?;
        let pool = bytes
            .get(pool_at..pool_at.saturating_add(pool_len))
            .ok_or_else(|| corrupt(at, "a key pool inside the blob", format!("{pool_len} bytes at {pool_at}")))?;
        if encoding != KeyEncoding::Strings {
            let keys = count.saturating_sub(encoding.leading_empty());
            if pool_len != keys * UUID_LEN || count < encoding.leading_empty() {
                return Err(corrupt(at, format!("{keys} UUID keys"), format!("{count} values, {pool_len} bytes")));
            }
        }
        Ok(FieldDir { encoding, count, entries_at, entries, pool_at, pool })
    }

    fn entry_at(&self, i: usize) -> usize {
        self.entries_at + i * self.encoding.entry_len()
    }

    /// Word `word` of entry `i` (in bounds: `entries` holds `count` entries, callers pass i < count).
    fn word(&self, i: usize, word: usize) -> u32 {
        le_u32(self.entries, i * self.encoding.entry_len() + 4 * word).unwrap_or_default()
    }

    fn payload(&self, i: usize) -> PayloadRef {
        let first = usize::from(self.encoding == KeyEncoding::Strings);
        PayloadRef { cardinality: self.word(i, first), word: self.word(i, first + 1) }
    }

    /// Binary search for the entry `probe` says is equal.
    fn search(&self, probe: impl Fn(usize) -> Result<Ordering, Error>) -> Result<Option<usize>, Error> {
        let (mut lo, mut hi) = (self.encoding.leading_empty().min(self.count), self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match probe(mid)? {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Some(mid)),
            }
        }
        Ok(None)
    }

    /// Byte range of value `i` in a string pool.
    fn value_range(&self, i: usize) -> Result<(usize, usize), Error> {
        let start = if i == 0 { 0 } else { self.word(i - 1, 0) as usize };
        let end = self.word(i, 0) as usize;
        if start > end || end > self.pool.len() {
            return Err(corrupt(
                self.entry_at(i),
                format!("a value range inside the {}-byte key pool", self.pool.len()),
                format!("{start}..{end}"),
            ));
        }
        Ok((start, end))
    }

    fn string_key(&self, i: usize) -> Result<&'a [u8], Error> {
        let (start, end) = self.value_range(i)?;
        Ok(&self.pool[start..end])
    }

    /// The UUID key of entry `i` (≥ the leading empty value).
    fn uuid_key(&self, i: usize) -> Result<[u8; UUID_LEN], Error> {
        let at = i.saturating_sub(self.encoding.leading_empty()) * UUID_LEN;
        self.pool
            .get(at..at + UUID_LEN)
            .and_then(|key| key.try_into().ok())
            .ok_or_else(|| corrupt(self.pool_at + at, "a UUID key inside the pool", "end of pool"))
    }
}

impl fmt::Debug for PostingsReader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PostingsReader");
        s.field("len", &self.bytes.len());
        for field in Field::ALL {
            s.field(field.name(), &self.value_count(field));
        }
        s.finish()
    }
}

/// Iterator over a field's `(value, row count)` pairs; see [`PostingsReader::values`].
#[derive(Clone)]
pub struct Values<'a> {
    dir: FieldDir<'a>,
    /// The validated string pool (string keys only).
    pool: &'a str,
    next: usize,
}

impl<'a> Iterator for Values<'a> {
    type Item = (Cow<'a, str>, u64);

    fn next(&mut self) -> Option<(Cow<'a, str>, u64)> {
        let i = self.next;
        if i >= self.dir.count {
            return None;
        }
        self.next += 1;
        let value = match self.dir.encoding {
            // Ranges were validated by `PostingsReader::values`.
            KeyEncoding::Strings => {
                let (start, end) = self.dir.value_range(i).ok()?;
                Cow::Borrowed(self.pool.get(start..end)?)
            }
            encoding if i < encoding.leading_empty() => Cow::Borrowed(""),
            _ => Cow::Owned(format_uuid(&self.dir.uuid_key(i).ok()?)),
        };
        Some((value, u64::from(self.dir.payload(i).cardinality)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.dir.count - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Values<'_> {}

impl fmt::Debug for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Values").field("left", &self.len()).finish()
    }
}
