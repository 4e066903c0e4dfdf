//! Any bytes as a segment file: opening and decoding return errors, never
//! panic and never read outside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("0000000000000001.kseg");
    std::fs::write(&path, data).expect("write");
    let _ = kevdb_engine::internals::read_segment_file(&path);
});
