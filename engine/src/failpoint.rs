//! Failpoints: named places in the engine where a test can make a
//! background operation panic or fail, to prove that faults are handled
//! (the database poisons and says why) rather than lost.
//!
//! They exist only in builds with the `failpoints` feature (and in the
//! engine's own unit tests); elsewhere [`hit`] is an empty inline function.
//! A database reads its failpoints from `Options::failpoints` and from the
//! `KEVDB_FAILPOINTS` environment variable at open: a comma-separated list
//! of `name=panic` or `name=error`, for example `seal=panic`.
//!
//! The places: `seal` (before a frozen memtable is written), `compaction`
//! (before a merge), `retention` (before a retention pass), `commit`
//! (before a group commit is written to the WAL).

use crate::error::{Error, Result};

/// What a failpoint does when reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAction {
    /// Panic on the thread that reached it.
    Panic,
    /// Return an I/O error from the operation.
    Error,
}

/// The failpoints of one database.
#[derive(Debug, Clone, Default)]
pub struct Failpoints {
    #[cfg(any(test, feature = "failpoints"))]
    points: Vec<(String, FailAction)>,
}

impl Failpoints {
    /// Parses `name=panic,name=error`.
    pub fn parse(spec: &str) -> Result<Failpoints> {
        let mut points = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, action) = item
                .split_once('=')
                .ok_or_else(|| Error::InvalidArgument(format!("failpoint {item:?}: expected name=panic|error")))?;
            let action = match action {
                "panic" => FailAction::Panic,
                "error" => FailAction::Error,
                other => return Err(Error::InvalidArgument(format!("failpoint {name}: unknown action {other:?}"))),
            };
            points.push((name.to_string(), action));
        }
        Ok(Failpoints::from_points(points))
    }

    #[cfg(any(test, feature = "failpoints"))]
    fn from_points(points: Vec<(String, FailAction)>) -> Failpoints {
        Failpoints { points }
    }

    #[cfg(not(any(test, feature = "failpoints")))]
    fn from_points(_: Vec<(String, FailAction)>) -> Failpoints {
        Failpoints {}
    }

    /// These failpoints plus those of `KEVDB_FAILPOINTS` (builds with the
    /// `failpoints` feature only).
    pub(crate) fn with_env(self) -> Result<Failpoints> {
        #[cfg(feature = "failpoints")]
        if let Ok(spec) = std::env::var("KEVDB_FAILPOINTS") {
            let mut all = self;
            all.points.extend(Failpoints::parse(&spec)?.points);
            return Ok(all);
        }
        Ok(self)
    }

    /// Reaches failpoint `name`: panics or fails if it is set.
    #[inline]
    pub(crate) fn hit(&self, name: &str) -> Result<()> {
        #[cfg(any(test, feature = "failpoints"))]
        for (point, action) in &self.points {
            if point == name {
                match action {
                    FailAction::Panic => panic!("failpoint {name} reached"),
                    FailAction::Error => {
                        return Err(Error::io(
                            "reach failpoint",
                            name,
                            std::io::Error::other(format!("failpoint {name} injected an error")),
                        ))
                    }
                }
            }
        }
        let _ = name;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_are_refused() {
        let f = Failpoints::parse("seal=panic, compaction=error").unwrap();
        assert!(f.hit("retention").is_ok());
        assert!(matches!(f.hit("compaction"), Err(Error::Io { .. })));
        assert!(std::panic::catch_unwind(|| f.hit("seal")).is_err());
        assert!(Failpoints::parse("seal").is_err());
        assert!(Failpoints::parse("seal=explode").is_err());
    }
}
