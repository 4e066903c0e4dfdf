//! The engine's error type.

use std::path::PathBuf;

/// Every error the engine returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Bytes read from disk are not what was written.
    #[error("corrupt {path} at offset {offset}: expected {expected}, found {found}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What should have been there.
        expected: String,
        /// What was there.
        found: String,
    },
    /// A file was written by an incompatible version of kevdb.
    #[error("{path}: unsupported format version {version} (this build reads {supported})")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
        /// The version this build understands.
        supported: u32,
    },
    /// A write failed to become durable earlier; the database refuses further
    /// writes until it is reopened (and recovers from its log).
    #[error("database is poisoned after an earlier write failure: {0}")]
    Poisoned(String),
    /// The database has been closed.
    #[error("database is closed")]
    Closed,
    /// Another process holds the database directory.
    #[error("database directory {0} is locked by another process")]
    Locked(PathBuf),
    /// A continue token is malformed, was altered, or belongs to another
    /// query (HTTP 400).
    #[error("invalid continue token: {0}")]
    InvalidToken(String),
    /// A continue token or resourceVersion is older than what the database
    /// can still serve consistently (HTTP 410 Gone).
    #[error("expired: {0}")]
    Expired(String),
    /// Sealing has fallen so far behind that an append was held back longer
    /// than `Options::append_stall_timeout`; retry later (HTTP 429).
    #[error("busy: {0}")]
    Busy(String),
    /// A caller passed an invalid argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the operation and path it concerns.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { op, path: path.into(), source }
    }
}
