//! Tuning knobs of a database, with production defaults.

use std::time::Duration;

/// When appended batches are forced to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// fdatasync every group commit before acknowledging it (the default):
    /// an acknowledged append survives power loss.
    #[default]
    Always,
    /// fdatasync at most this often; an append is acknowledged once written
    /// to the OS. A crash of the process loses nothing; power loss may lose
    /// up to one interval.
    Interval(Duration),
    /// Leave flushing to the OS.
    Never,
}

/// Options for [`crate::Db::open`].
#[derive(Clone, Debug)]
pub struct Options {
    /// WAL durability policy.
    pub sync: SyncPolicy,
    /// Cluster name given to events appended without one.
    pub default_cluster: String,
    /// Seal the in-memory buffer into segments once it holds this many rows.
    pub memtable_rows: usize,
    /// ... or once its oldest row is this old.
    pub memtable_max_age: Duration,
    /// Rows per row group inside a segment.
    pub row_group_rows: usize,
    /// zstd level for sealed segments.
    pub compression_level: i32,
    /// Drop partitions whose every event was last seen longer ago than this.
    pub retention: Option<Duration>,
    /// Drop the oldest partitions while segments take more bytes than this
    /// (the newest partition is always kept).
    pub max_disk_bytes: Option<u64>,
    /// Hold appends back (see [`crate::Db::append`]) while this many frozen
    /// memtables wait to be sealed, so that memory stays bounded when
    /// appends outrun sealing. 0 never holds appends back. Only with
    /// `background`: without the maintenance thread nothing would seal them.
    pub max_frozen_memtables: usize,
    /// How long a held-back append waits for sealing before it fails with
    /// [`crate::Error::Busy`].
    pub append_stall_timeout: Duration,
    /// Bytes of decoded row groups kept for later queries (see
    /// `db::cache`); 0 turns the cache off.
    pub cache_bytes: usize,
    /// Compact a partition once it has this many segments.
    pub compaction_min_segments: usize,
    /// How often the background thread looks for sealing, retention and
    /// compaction work.
    pub maintenance_interval: Duration,
    /// Run sealing, retention and compaction on a background thread. When
    /// false they run only through explicit calls (useful in tests).
    pub background: bool,
    /// Failpoints for tests of fault handling (see [`crate::failpoint`]);
    /// they do nothing unless the `failpoints` feature is on.
    pub failpoints: crate::failpoint::Failpoints,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: SyncPolicy::Always,
            default_cluster: "default".into(),
            memtable_rows: 64 * 1024,
            memtable_max_age: Duration::from_secs(300),
            row_group_rows: 16 * 1024,
            compression_level: 3,
            retention: None,
            max_disk_bytes: None,
            max_frozen_memtables: 2,
            append_stall_timeout: Duration::from_secs(30),
            cache_bytes: 128 << 20,
            compaction_min_segments: 4,
            maintenance_interval: Duration::from_secs(5),
            background: true,
            failpoints: crate::failpoint::Failpoints::default(),
        }
    }
}
