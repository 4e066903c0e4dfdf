//! Writing a segment: rows arrive sorted, are cut into row groups, encoded
//! column by column and compressed; `finish` writes the footer and makes the
//! file durable under its final name.

use super::column::encode_strings;
use super::footer::{BlockRef, RowGroupMeta, Section, SegmentFooter};
use super::{col, segment_file_name, HEADER_LEN, SEGMENT_END_MAGIC, SEGMENT_MAGIC, SEGMENT_VERSION};
use crate::codec::{crc, put_opt_signed, put_signed, put_varint};
use crate::error::{Error, Result};
use crate::fsutil::{create_dir_durable, sync_dir};
use crate::identity::IdentityKey;
use crate::model::{Event, StrField};
use crate::row::StoredEvent;
use kevdb_index::fulltext::FullTextBuilder;
use kevdb_index::postings::{Field, PostingsBuilder};
use kevdb_index::{FULLTEXT_ALIGN, POSTINGS_ALIGN};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What the manifest and the segment handle need to know about a finished
/// segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    pub id: u64,
    pub day: i32,
    pub rows: u64,
    pub bytes: u64,
    pub min_seq: u64,
    pub max_seq: u64,
    pub path: PathBuf,
}

/// Streams sorted rows into a new segment file.
pub(crate) struct SegmentWriter {
    out: BufWriter<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
    id: u64,
    day: i32,
    offset: u64,
    group_rows: usize,
    pending: Vec<StoredEvent>,
    groups: Vec<RowGroupMeta>,
    fingerprints: Vec<u32>,
    postings: PostingsBuilder,
    fulltext: FullTextBuilder,
    /// Rows written so far (the next row's segment-local id).
    next_row: u32,
    /// One compression context for every block (creating one per block
    /// costs more than compressing).
    compressor: zstd::bulk::Compressor<'static>,
    last_key: Option<(i64, u64)>,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter").field("path", &self.tmp_path).field("groups", &self.groups.len()).finish()
    }
}

impl SegmentWriter {
    /// Starts segment `id` of partition `day` in directory `dir`.
    pub(crate) fn create(dir: &Path, id: u64, day: i32, level: i32, group_rows: usize) -> Result<SegmentWriter> {
        create_dir_durable(dir)?;
        let final_path = dir.join(segment_file_name(id));
        let tmp_path = final_path.with_extension("kevdb-tmp");
        let file = File::create(&tmp_path).map_err(|e| Error::io("create", &tmp_path, e))?;
        let compressor = zstd::bulk::Compressor::new(level).map_err(|e| Error::io("compress", &tmp_path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(&SEGMENT_MAGIC);
        header[8..12].copy_from_slice(&SEGMENT_VERSION.to_le_bytes());
        out.write_all(&header).map_err(|e| Error::io("write", &tmp_path, e))?;
        Ok(SegmentWriter {
            out,
            tmp_path,
            final_path,
            dir: dir.to_owned(),
            id,
            day,
            offset: HEADER_LEN as u64,
            group_rows: group_rows.max(1),
            pending: Vec::new(),
            groups: Vec::new(),
            fingerprints: Vec::new(),
            postings: PostingsBuilder::new(),
            fulltext: FullTextBuilder::new(),
            next_row: 0,
            compressor,
            last_key: None,
        })
    }

    fn check_order(&mut self, row: &StoredEvent) {
        let key = (row.last_seen().0, row.seq.0);
        assert!(
            self.last_key.is_none_or(|k| k < key),
            "segment rows must arrive sorted by (last_seen, seq): {:?} after {:?}",
            key,
            self.last_key
        );
        self.last_key = Some(key);
    }

    /// Adds a row. Rows must arrive in ascending (last-seen, seq) order.
    pub(crate) fn push(&mut self, row: StoredEvent) -> Result<()> {
        self.check_order(&row);
        self.pending.push(row);
        if self.pending.len() >= self.group_rows {
            let rows = std::mem::take(&mut self.pending);
            self.write_group(&rows.iter().collect::<Vec<_>>())?;
        }
        Ok(())
    }

    /// Adds rows that are all in memory, without copying them. They must be
    /// sorted and follow every row pushed before; nothing may be pending.
    pub(crate) fn push_all(&mut self, rows: &[&StoredEvent]) -> Result<()> {
        assert!(self.pending.is_empty(), "push_all after a partial group");
        for chunk in rows.chunks(self.group_rows) {
            for r in chunk {
                self.check_order(r);
            }
            self.write_group(chunk)?;
        }
        Ok(())
    }

    fn write_block(&mut self, raw: &[u8]) -> Result<BlockRef> {
        let compressed = self.compressor.compress(raw).map_err(|e| Error::io("compress", &self.tmp_path, e))?;
        self.out.write_all(&compressed).map_err(|e| Error::io("write", &self.tmp_path, e))?;
        let block = BlockRef {
            offset: self.offset,
            len: compressed.len() as u32,
            raw_len: raw.len() as u32,
            crc: crc(&compressed),
        };
        self.offset += compressed.len() as u64;
        Ok(block)
    }

    /// Writes an uncompressed section starting at a multiple of `align`.
    fn write_section(&mut self, bytes: &[u8], align: usize) -> Result<Section> {
        let align = align.max(1) as u64;
        let pad = (align - self.offset % align) % align;
        self.out.write_all(&vec![0u8; pad as usize]).map_err(|e| Error::io("write", &self.tmp_path, e))?;
        self.offset += pad;
        let section = Section { offset: self.offset, len: bytes.len() as u64, crc: crc(bytes) };
        self.out.write_all(bytes).map_err(|e| Error::io("write", &self.tmp_path, e))?;
        self.offset += bytes.len() as u64;
        Ok(section)
    }

    fn write_group(&mut self, rows: &[&StoredEvent]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.fingerprints.extend(rows.iter().map(|r| IdentityKey::of(&r.event).fingerprint()));
        for r in rows {
            index_row(&mut self.postings, &mut self.fulltext, self.next_row, &r.event);
            self.next_row += 1;
        }
        let raw = encode_group(rows);
        let mut columns = Vec::with_capacity(col::COUNT);
        for column in &raw {
            columns.push(self.write_block(column)?);
        }
        let last_seen = rows.iter().map(|r| r.last_seen().0);
        let first_seen = rows.iter().map(|r| first_seen(r));
        self.groups.push(RowGroupMeta {
            rows: rows.len() as u32,
            min_seq: rows.iter().map(|r| r.seq.0).min().unwrap_or(0),
            max_seq: rows.iter().map(|r| r.seq.0).max().unwrap_or(0),
            min_last_seen: last_seen.clone().min().unwrap_or(0),
            max_last_seen: last_seen.max().unwrap_or(0),
            min_first_seen: first_seen.min().unwrap_or(0),
            columns,
        });
        Ok(())
    }

    /// Writes the footer and trailer, fsyncs, and renames the file into place.
    pub(crate) fn finish(mut self) -> Result<SegmentMeta> {
        let rest = std::mem::take(&mut self.pending);
        self.write_group(&rest.iter().collect::<Vec<_>>())?;
        let groups = std::mem::take(&mut self.groups);
        let mut fingerprints = std::mem::take(&mut self.fingerprints);
        fingerprints.sort_unstable();
        let identities = self.write_block(&encode_fingerprints(&fingerprints))?;
        let postings_blob = std::mem::take(&mut self.postings).serialize();
        let postings = self.write_section(&postings_blob, POSTINGS_ALIGN)?;
        let fulltext_blob = std::mem::take(&mut self.fulltext)
            .finish()
            .map_err(|e| Error::io("index messages", &self.tmp_path, std::io::Error::other(e.to_string())))?;
        let fulltext = self.write_section(&fulltext_blob, FULLTEXT_ALIGN)?;
        let footer = SegmentFooter {
            format_version: SEGMENT_VERSION,
            segment_id: self.id,
            day: self.day,
            rows: groups.iter().map(|g| u64::from(g.rows)).sum(),
            min_seq: groups.iter().map(|g| g.min_seq).min().unwrap_or(0),
            max_seq: groups.iter().map(|g| g.max_seq).max().unwrap_or(0),
            min_last_seen: groups.iter().map(|g| g.min_last_seen).min().unwrap_or(0),
            max_last_seen: groups.iter().map(|g| g.max_last_seen).max().unwrap_or(0),
            min_first_seen: groups.iter().map(|g| g.min_first_seen).min().unwrap_or(0),
            row_groups: groups,
            identities,
            postings,
            fulltext,
        };
        let archived = rkyv::to_bytes::<rkyv::rancor::Error>(&footer)
            .map_err(|e| Error::io("archive footer", &self.tmp_path, std::io::Error::other(e.to_string())))?;
        // The footer is read in place, so it must start 16-byte aligned.
        let pad = (16 - (self.offset % 16)) % 16;
        let footer_offset = self.offset + pad;
        let mut tail = vec![0u8; pad as usize];
        tail.extend_from_slice(&archived);
        tail.extend_from_slice(&footer_offset.to_le_bytes());
        tail.extend_from_slice(&(archived.len() as u32).to_le_bytes());
        tail.extend_from_slice(&crc(&archived).to_le_bytes());
        tail.extend_from_slice(&SEGMENT_END_MAGIC);
        self.out.write_all(&tail).map_err(|e| Error::io("write", &self.tmp_path, e))?;
        let bytes = footer_offset + tail.len() as u64 - pad;
        let file = self.out.into_inner().map_err(|e| Error::io("write", &self.tmp_path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("fsync", &self.tmp_path, e))?;
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(|e| Error::io("rename", &self.tmp_path, e))?;
        // IMPORTANT: fsync the directory after the rename, or the segment may vanish in a crash.
        sync_dir(&self.dir)?;
        Ok(SegmentMeta {
            id: self.id,
            day: self.day,
            rows: footer.rows,
            bytes,
            min_seq: footer.min_seq,
            max_seq: footer.max_seq,
            path: self.final_path,
        })
    }

    /// Abandons the segment, removing its temporary file.
    pub(crate) fn abort(self) {
        let _ = std::fs::remove_file(&self.tmp_path);
    }
}

/// The value a row has for a postings field (empty when absent), shared
/// with the planner so lookups use the same rule.
pub(crate) fn posting_value(field: Field, e: &Event) -> &str {
    let s = |f: StrField| e.str(f).unwrap_or("");
    let either = |a: StrField, b: StrField| if s(a).is_empty() { s(b) } else { s(a) };
    match field {
        Field::Type => s(StrField::Type),
        Field::Reason => s(StrField::Reason),
        Field::Kind => s(StrField::InvolvedObjectKind),
        Field::Namespace => s(StrField::MetadataNamespace),
        Field::Name => s(StrField::InvolvedObjectName),
        Field::Uid => s(StrField::InvolvedObjectUid),
        Field::Component => either(StrField::SourceComponent, StrField::ReportingComponent),
        Field::Host => either(StrField::SourceHost, StrField::ReportingInstance),
        Field::Cluster => e.cluster(),
    }
}

fn index_row(postings: &mut PostingsBuilder, fulltext: &mut FullTextBuilder, row: u32, e: &Event) {
    for field in Field::ALL {
        postings.add(field, posting_value(field, e), row);
    }
    fulltext.add(row, e.message());
}

/// The identity block before compression: varint count, then the sorted
/// fingerprints as varint deltas (the first from zero).
fn encode_fingerprints(sorted: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sorted.len() * 3 + 8);
    put_varint(&mut out, sorted.len() as u64);
    let mut prev = 0u32;
    for &f in sorted {
        put_varint(&mut out, u64::from(f - prev));
        prev = f;
    }
    out
}

fn first_seen(r: &StoredEvent) -> i64 {
    r.event.first_seen().map_or(r.last_seen().0, |t| t.0)
}

/// Encodes the rows of one group into one raw buffer per column.
fn encode_group(rows: &[&StoredEvent]) -> Vec<Vec<u8>> {
    let mut cols: Vec<Vec<u8>> = vec![Vec::new(); col::COUNT];
    let mut prev_seq = 0u64;
    let mut prev_last = 0i64;
    for (i, r) in rows.iter().enumerate() {
        let last = r.last_seen().0;
        if i == 0 {
            put_varint(&mut cols[col::SEQ], r.seq.0);
            put_signed(&mut cols[col::LAST_SEEN], last);
        } else {
            put_signed(&mut cols[col::SEQ], r.seq.0.wrapping_sub(prev_seq) as i64);
            put_signed(&mut cols[col::LAST_SEEN], last.wrapping_sub(prev_last));
        }
        prev_seq = r.seq.0;
        prev_last = last;
        put_signed(&mut cols[col::FIRST_SEEN], last.wrapping_sub(first_seen(r)));
        put_varint(&mut cols[col::SHAPE], u64::from(r.event.shape.tag()));
        put_varint(&mut cols[col::PRESENCE], r.event.presence.0);
        for (t, v) in r.event.times.iter().enumerate() {
            put_opt_signed(&mut cols[col::TIME_BASE + t], v.map(|v| v.0.wrapping_sub(last)));
        }
        for (k, v) in r.event.ints.iter().enumerate() {
            put_opt_signed(&mut cols[col::INT_BASE + k], *v);
        }
    }
    encode_strings(&mut cols[col::CLUSTER], rows.iter().map(|r| Some(&*r.event.cluster)));
    for s in 0..crate::model::StrField::COUNT {
        encode_strings(&mut cols[col::STR_BASE + s], rows.iter().map(|r| r.event.strs[s].as_deref()));
    }
    encode_strings(&mut cols[col::RESIDUAL], rows.iter().map(|r| r.event.residual.as_deref()));
    cols
}
