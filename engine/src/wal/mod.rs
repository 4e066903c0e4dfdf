//! The write-ahead log: every accepted batch is framed, checksummed and
//! appended here before it becomes visible; recovery replays it.
//!
//! ```text
//! wal/<first seq, 20 digits>.wal
//!
//! +----------------------+  file header, 16 bytes
//! | magic "KEVDBWAL"  8B |
//! | version u32 LE    4B |  = 1
//! | reserved u32 LE   4B |  = 0
//! +----------------------+
//! | frame                |  repeated until end of file
//! +----------------------+
//!
//! frame   = payload_len u32 LE | crc32c(payload) u32 LE | payload
//! payload = first_seq u64 LE | row_count u32 LE | row * row_count  (see `row`)
//! ```
//!
//! Row `i` of a payload has sequence number `first_seq + i`. A file holds a
//! contiguous run of sequence numbers starting at the one in its name; the
//! engine starts a new file whenever it freezes the memtable, so one file
//! never spans two segments' worth of rows, and a file is deleted once every
//! row in it is sealed into segments.
//!
//! **Architecture Invariant:** an append is acknowledged only after its frame
//! is written (and, under the default policy, fdatasync'ed).

mod frame;
mod reader;
mod writer;

pub(crate) use frame::encode_batch;
pub(crate) use reader::{list_wal_files, read_wal_file};
pub(crate) use writer::WalWriter;

/// Magic bytes at the start of every WAL file.
pub const WAL_MAGIC: [u8; 8] = *b"KEVDBWAL";
/// The WAL format version this build writes and reads.
pub const WAL_VERSION: u32 = 1;
/// Length of the WAL file header.
pub const WAL_HEADER_LEN: usize = 16;
/// Frames larger than this are treated as corruption (a batch is bounded far
/// below it by the ingest path).
pub const MAX_FRAME_LEN: usize = 256 << 20;
