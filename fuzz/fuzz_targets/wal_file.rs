//! Any bytes as a WAL file: recovery reads the intact prefix and never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("00000000000000000001.wal");
    std::fs::write(&path, data).expect("write");
    let _ = kevdb_engine::internals::read_wal_file(&path);
});
