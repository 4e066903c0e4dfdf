//! Reading a segment: validate the trailer and footer once at open, then
//! decode row groups on demand, checking each block's checksum first.

use super::column::{decode_strings, decode_varints, StrColumn};
#[cfg(test)]
use super::footer::SegmentFooter;
use super::footer::{ArchivedSection, ArchivedSegmentFooter};
use super::mmap::map_segment;
use super::{col, HEADER_LEN, SEGMENT_END_MAGIC, SEGMENT_MAGIC, SEGMENT_VERSION, TRAILER_LEN};
use crate::codec::{crc, unzigzag};
use crate::error::{Error, Result};
use crate::model::{ApiShape, Event, IntField, Presence, StrField, TimeField, Timestamp};
use crate::row::{SeqNo, StoredEvent};
use kevdb_index::{FullTextIndex, PostingsReader, SharedBytes};
use memmap2::Mmap;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// An open, validated segment.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    path: PathBuf,
    /// Shared so the full-text index can keep reading it in place.
    mmap: Arc<Mmap>,
    footer: Range<usize>,
    /// Outcome of the postings section's checksum, checked on first use.
    postings_checked: OnceLock<std::result::Result<(), String>>,
    /// The opened full-text index, on first use.
    fulltext: OnceLock<std::result::Result<Arc<FullTextIndex>, String>>,
}

fn corrupt(path: &Path, offset: u64, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::Corrupt { path: path.to_owned(), offset, expected: expected.into(), found: found.into() }
}

impl SegmentReader {
    /// Opens and validates a segment: header, trailer, footer checksum and
    /// the footer's archive structure. Blocks are checked when read.
    pub(crate) fn open(path: &Path) -> Result<SegmentReader> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        // SAFETY: segment files are write-once and removed only by unlink
        // (see the module invariant), so the mapped bytes never change.
        let mmap = unsafe { map_segment(&file) }.map_err(|e| Error::io("mmap", path, e))?;
        let len = mmap.len();
        if len < HEADER_LEN + TRAILER_LEN {
            return Err(corrupt(
                path,
                0,
                format!("at least {} bytes", HEADER_LEN + TRAILER_LEN),
                format!("{len} bytes"),
            ));
        }
        if mmap[..8] != SEGMENT_MAGIC {
            return Err(corrupt(path, 0, "segment magic KEVDBSEG", format!("{:02x?}", &mmap[..8])));
        }
        let version = u32::from_le_bytes([mmap[8], mmap[9], mmap[10], mmap[11]]);
        if version != SEGMENT_VERSION {
            return Err(Error::UnsupportedVersion { path: path.to_owned(), version, supported: SEGMENT_VERSION });
        }
        let t = len - TRAILER_LEN;
        let trailer = &mmap[t..];
        if trailer[16..24] != SEGMENT_END_MAGIC {
            return Err(corrupt(path, t as u64 + 16, "end magic KEVDBEND", format!("{:02x?}", &trailer[16..24])));
        }
        let mut off = [0u8; 8];
        off.copy_from_slice(&trailer[..8]);
        let footer_offset = u64::from_le_bytes(off);
        let footer_len = u32::from_le_bytes([trailer[8], trailer[9], trailer[10], trailer[11]]) as u64;
        let footer_crc = u32::from_le_bytes([trailer[12], trailer[13], trailer[14], trailer[15]]);
        let end = footer_offset.saturating_add(footer_len);
        if footer_offset < HEADER_LEN as u64 || end != t as u64 || footer_offset % 16 != 0 {
            return Err(corrupt(
                path,
                t as u64,
                "a footer range ending at the trailer",
                format!("{footer_offset}+{footer_len}"),
            ));
        }
        let footer = footer_offset as usize..end as usize;
        let found = crc(&mmap[footer.clone()]);
        if found != footer_crc {
            return Err(corrupt(path, footer_offset, format!("footer crc {footer_crc:08x}"), format!("{found:08x}")));
        }
        rkyv::access::<ArchivedSegmentFooter, rkyv::rancor::Error>(&mmap[footer.clone()])
            .map_err(|e| corrupt(path, footer_offset, "a valid footer archive", e.to_string()))?;
        let reader = SegmentReader {
            path: path.to_owned(),
            mmap: Arc::new(mmap),
            footer,
            postings_checked: OnceLock::new(),
            fulltext: OnceLock::new(),
        };
        if reader.footer().format_version.to_native() != SEGMENT_VERSION {
            return Err(corrupt(
                path,
                footer_offset,
                "footer version 1",
                reader.footer().format_version.to_native().to_string(),
            ));
        }
        Ok(reader)
    }

    /// The footer, read in place.
    pub(crate) fn footer(&self) -> &ArchivedSegmentFooter {
        let bytes = &self.mmap[self.footer.clone()];
        // SAFETY: `open` validated exactly these bytes with `rkyv::access`, and
        // the map is immutable for its whole life (segments are write-once).
        unsafe { rkyv::access_unchecked::<ArchivedSegmentFooter>(bytes) }
    }

    /// An owned copy of the footer (for tests).
    #[cfg(test)]
    pub(crate) fn footer_owned(&self) -> Result<SegmentFooter> {
        rkyv::deserialize::<SegmentFooter, rkyv::rancor::Error>(self.footer())
            .map_err(|e| corrupt(&self.path, self.footer.start as u64, "a deserialisable footer", e.to_string()))
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Number of row groups.
    pub(crate) fn group_count(&self) -> usize {
        self.footer().row_groups.len()
    }

    fn block(&self, group: usize, column: usize) -> Result<Vec<u8>> {
        let g = &self.footer().row_groups[group];
        let b = g
            .columns
            .get(column)
            .ok_or_else(|| corrupt(&self.path, 0, format!("{} columns", col::COUNT), g.columns.len().to_string()))?;
        self.block_at(b.offset.to_native(), b.len.to_native(), b.raw_len.to_native(), b.crc.to_native())
    }

    /// Checks and decompresses the block at `offset`.
    fn block_at(&self, offset: u64, len: u32, raw_len: u32, expected_crc: u32) -> Result<Vec<u8>> {
        let range = usize::try_from(offset).ok().and_then(|o| Some(o..o.checked_add(len as usize)?));
        let bytes = range
            .filter(|r| r.end <= self.footer.start)
            .and_then(|r| self.mmap.get(r))
            .ok_or_else(|| corrupt(&self.path, offset, "a block inside the data area", format!("{len} bytes")))?;
        let found = crc(bytes);
        if found != expected_crc {
            return Err(corrupt(&self.path, offset, format!("block crc {expected_crc:08x}"), format!("{found:08x}")));
        }
        let raw_len = raw_len as usize;
        let raw = decompress(bytes, raw_len).map_err(|e| corrupt(&self.path, offset, "a zstd frame", e.to_string()))?;
        if raw.len() != raw_len {
            return Err(corrupt(&self.path, offset, format!("{raw_len} decompressed bytes"), raw.len().to_string()));
        }
        Ok(raw)
    }

    /// The bytes of an index section, bounds-checked against the data area.
    fn section_range(&self, s: &ArchivedSection, what: &str) -> Result<Range<usize>> {
        let (offset, len) = (s.offset.to_native(), s.len.to_native());
        usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| Some(o..o.checked_add(l)?))
            .filter(|r| r.end <= self.footer.start)
            .ok_or_else(|| {
                corrupt(&self.path, offset, format!("a {what} section inside the data area"), format!("{len} bytes"))
            })
    }

    fn check_section(&self, s: &ArchivedSection, what: &str) -> std::result::Result<Range<usize>, String> {
        let range = self.section_range(s, what).map_err(|e| e.to_string())?;
        let found = crc(&self.mmap[range.clone()]);
        if found != s.crc.to_native() {
            return Err(corrupt(
                &self.path,
                s.offset.to_native(),
                format!("{what} crc {:08x}", s.crc.to_native()),
                format!("{found:08x}"),
            )
            .to_string());
        }
        Ok(range)
    }

    /// The postings, read in place (checksummed on first use).
    pub(crate) fn postings(&self) -> Result<PostingsReader<'_>> {
        let s = &self.footer().postings;
        let checked = self.postings_checked.get_or_init(|| self.check_section(s, "postings").map(drop));
        let to_err = |e: String| Error::Corrupt {
            path: self.path.clone(),
            offset: s.offset.to_native(),
            expected: "intact postings".into(),
            found: e,
        };
        checked.clone().map_err(to_err)?;
        let range = self.section_range(s, "postings")?;
        PostingsReader::open(&self.mmap[range]).map_err(|e| to_err(e.to_string()))
    }

    /// The full-text index, opened over the mmap on first use.
    pub(crate) fn fulltext(&self) -> Result<Arc<FullTextIndex>> {
        let s = &self.footer().fulltext;
        let index = self.fulltext.get_or_init(|| {
            let range = self.check_section(s, "full-text")?;
            let bytes =
                SharedBytes::from_arc(self.mmap.clone()).slice(range).ok_or("full-text range outside the file")?;
            FullTextIndex::open(bytes).map(Arc::new).map_err(|e| e.to_string())
        });
        index.clone().map_err(|e| Error::Corrupt {
            path: self.path.clone(),
            offset: s.offset.to_native(),
            expected: "an intact full-text index".into(),
            found: e,
        })
    }

    /// The sorted identity fingerprints of every row (the identity block).
    pub(crate) fn fingerprints(&self) -> Result<Vec<u32>> {
        let b = &self.footer().identities;
        let raw = self.block_at(b.offset.to_native(), b.len.to_native(), b.raw_len.to_native(), b.crc.to_native())?;
        let bad = |offset: usize| {
            corrupt(
                &self.path,
                b.offset.to_native(),
                "sorted identity fingerprints",
                format!("bad data at byte {offset}"),
            )
        };
        let mut r = crate::codec::ByteReader::new(&raw);
        let n = r.len().map_err(|e| bad(e.offset))?;
        if n > raw.len() {
            return Err(bad(0));
        }
        let mut out = Vec::with_capacity(n);
        let mut prev = 0u64;
        for _ in 0..n {
            prev += r.varint().map_err(|e| bad(e.offset))?;
            out.push(u32::try_from(prev).map_err(|_| bad(r.position()))?);
        }
        Ok(out)
    }

    /// Decodes every column of row group `group`. Every block is
    /// checksummed first.
    pub(crate) fn read_group(&self, group: usize) -> Result<DecodedGroup> {
        self.read_group_cols(group, ALL_COLUMNS)
    }

    /// Decodes row group `group`: seq and last seen always, and the other
    /// columns in `mask` (bit = column id; first seen is
    /// [`FIRST_SEEN_COLUMN`]). The rest stay empty until
    /// [`SegmentReader::load_columns`].
    pub(crate) fn read_group_cols(&self, group: usize, mask: u64) -> Result<DecodedGroup> {
        let rows = self.footer().row_groups[group].rows.to_native() as usize;
        let mut seq = self.ints(group, col::SEQ, rows)?;
        let mut last_seen: Vec<i64> = Vec::with_capacity(rows);
        let mut prev_seq = 0u64;
        let mut prev_last = 0i64;
        for (i, raw_last) in self.ints(group, col::LAST_SEEN, rows)?.into_iter().enumerate() {
            if i == 0 {
                prev_seq = seq[0];
                prev_last = unzigzag(raw_last);
            } else {
                prev_seq = prev_seq.wrapping_add(unzigzag(seq[i]) as u64);
                seq[i] = prev_seq;
                prev_last = prev_last.wrapping_add(unzigzag(raw_last));
            }
            last_seen.push(prev_last);
        }
        let mut g = DecodedGroup {
            group,
            rows,
            seq: Arc::new(seq),
            last_seen: Arc::new(last_seen),
            first_seen: Arc::default(),
            loaded: BASE_COLUMNS,
            shapes: Arc::default(),
            presence: Arc::default(),
            cluster: Arc::default(),
            strs: vec![Arc::default(); StrField::COUNT],
            times: vec![Arc::default(); TimeField::COUNT],
            ints: vec![Arc::default(); IntField::COUNT],
            residual: Arc::default(),
        };
        self.load_columns(&mut g, mask)?;
        Ok(g)
    }

    fn decode_err(&self, group: usize, column: usize, e: crate::codec::DecodeError) -> Error {
        corrupt(
            &self.path,
            0,
            format!("column {column} of row group {group}: {}", e.expected),
            format!("bad data at byte {}", e.offset),
        )
    }

    fn ints(&self, group: usize, column: usize, rows: usize) -> Result<Vec<u64>> {
        decode_varints(&self.block(group, column)?, rows).map_err(|e| self.decode_err(group, column, e))
    }

    fn strings(&self, group: usize, column: usize, rows: usize) -> Result<StrColumn> {
        decode_strings(&self.block(group, column)?, rows).map_err(|e| self.decode_err(group, column, e))
    }

    /// Decodes the columns in `mask` that `g` does not hold yet.
    pub(crate) fn load_columns(&self, g: &mut DecodedGroup, mask: u64) -> Result<()> {
        let (group, rows) = (g.group, g.rows);
        let want = |c: usize| mask & (1u64 << c) != 0 && g.loaded & (1u64 << c) == 0;
        let opt = |v: u64, base: i64| if v == 0 { None } else { Some(unzigzag(v - 1).wrapping_add(base)) };
        if want(col::FIRST_SEEN) {
            g.first_seen = Arc::new(
                self.ints(group, col::FIRST_SEEN, rows)?
                    .into_iter()
                    .zip(g.last_seen.iter())
                    .map(|(d, l)| l.wrapping_sub(unzigzag(d)))
                    .collect(),
            );
        }
        if want(col::SHAPE) {
            g.shapes = self
                .ints(group, col::SHAPE, rows)?
                .into_iter()
                .map(|t| {
                    u8::try_from(t).ok().and_then(ApiShape::from_tag).ok_or_else(|| {
                        self.decode_err(
                            group,
                            col::SHAPE,
                            crate::codec::DecodeError { offset: 0, expected: "a shape tag" },
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(Arc::new)?;
        }
        if want(col::PRESENCE) {
            g.presence = Arc::new(self.ints(group, col::PRESENCE, rows)?);
        }
        if want(col::CLUSTER) {
            g.cluster = Arc::new(self.strings(group, col::CLUSTER, rows)?);
        }
        for s in 0..StrField::COUNT {
            if want(col::STR_BASE + s) {
                g.strs[s] = Arc::new(self.strings(group, col::STR_BASE + s, rows)?);
            }
        }
        for t in 0..TimeField::COUNT {
            if want(col::TIME_BASE + t) {
                let raw = self.ints(group, col::TIME_BASE + t, rows)?;
                g.times[t] = Arc::new(raw.into_iter().zip(g.last_seen.iter()).map(|(v, l)| opt(v, *l)).collect());
            }
        }
        for k in 0..IntField::COUNT {
            if want(col::INT_BASE + k) {
                g.ints[k] =
                    Arc::new(self.ints(group, col::INT_BASE + k, rows)?.into_iter().map(|v| opt(v, 0)).collect());
            }
        }
        if want(col::RESIDUAL) {
            g.residual = Arc::new(self.strings(group, col::RESIDUAL, rows)?);
        }
        g.loaded |= mask;
        Ok(())
    }
}

/// Every column.
pub(crate) const ALL_COLUMNS: u64 = (1u64 << col::COUNT) - 1;
/// Columns every decode includes.
const BASE_COLUMNS: u64 = (1 << col::SEQ) | (1 << col::LAST_SEEN);
/// The column-mask bit of first seen (needed by the window check only when
/// a row group reaches the window's upper bound, and to build events).
pub(crate) const FIRST_SEEN_COLUMN: u64 = 1u64 << col::FIRST_SEEN;

/// The column-mask bit of a string slot.
pub(crate) fn str_column(f: StrField) -> u64 {
    1u64 << (col::STR_BASE + f.index())
}

/// The column-mask bit of the cluster column.
pub(crate) const CLUSTER_COLUMN: u64 = 1u64 << col::CLUSTER;

thread_local! {
    /// One decompression context per thread, reused for every block.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
}

fn decompress(bytes: &[u8], raw_len: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new()?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress(bytes, raw_len.max(1)),
            None => Err(std::io::Error::other("no decompressor")),
        }
    })
}

/// One row group decoded into columns (some of them: see `loaded`). Each
/// column is shared, so a clone is cheap: the decoded-group cache hands out
/// clones and extends them with more columns.
#[derive(Debug, Clone)]
pub(crate) struct DecodedGroup {
    /// Which row group of its segment this is.
    pub group: usize,
    pub rows: usize,
    pub seq: Arc<Vec<u64>>,
    pub last_seen: Arc<Vec<i64>>,
    pub first_seen: Arc<Vec<i64>>,
    /// Bit = column id, set for decoded columns.
    loaded: u64,
    shapes: Arc<Vec<ApiShape>>,
    presence: Arc<Vec<u64>>,
    cluster: Arc<StrColumn>,
    strs: Vec<Arc<StrColumn>>,
    times: Vec<Arc<Vec<Option<i64>>>>,
    ints: Vec<Arc<Vec<Option<i64>>>>,
    residual: Arc<StrColumn>,
}

impl DecodedGroup {
    /// Heap bytes the decoded columns take (for the cache's budget).
    pub(crate) fn heap_bytes(&self) -> usize {
        let vec = |len: usize, size: usize| len * size;
        vec(self.seq.len() + self.presence.len(), 8)
            + vec(self.last_seen.len() + self.first_seen.len(), 8)
            + self.shapes.len()
            + self.cluster.heap_bytes()
            + self.residual.heap_bytes()
            + self.strs.iter().map(|c| c.heap_bytes()).sum::<usize>()
            + self.times.iter().chain(&self.ints).map(|c| vec(c.len(), 16)).sum::<usize>()
    }

    /// True when every column in `mask` is decoded.
    pub(crate) fn has(&self, mask: u64) -> bool {
        self.loaded & mask == mask
    }

    /// The value of a string slot at row `i`, without building the event.
    /// The slot's column must be loaded.
    pub(crate) fn str(&self, field: StrField, i: usize) -> Option<&str> {
        debug_assert!(self.has(str_column(field)), "column of {field:?} not loaded");
        self.strs[field.index()].get(i)
    }

    /// The cluster of row `i`.
    pub(crate) fn cluster(&self, i: usize) -> &str {
        self.cluster.get(i).unwrap_or("")
    }

    /// Builds the full stored event of row `i`. Every column must be loaded.
    pub(crate) fn event(&self, i: usize) -> StoredEvent {
        debug_assert!(self.has(ALL_COLUMNS), "event() on a partly decoded row group");
        let mut event = Event::new(self.shapes[i]);
        event.cluster = self.cluster.get_owned(i).unwrap_or_default();
        event.presence = Presence(self.presence[i]);
        for (s, column) in self.strs.iter().enumerate() {
            event.strs[s] = column.get_owned(i);
        }
        for (t, column) in self.times.iter().enumerate() {
            event.times[t] = column[i].map(Timestamp);
        }
        for (k, column) in self.ints.iter().enumerate() {
            event.ints[k] = column[i];
        }
        event.residual = self.residual.get_owned(i);
        StoredEvent { seq: SeqNo(self.seq[i]), event }
    }
}
