//! Any bytes given to the WAL row decoder: no panic, and whatever decodes
//! re-encodes to the same event.
#![no_main]

use kevdb_engine::internals::{decode_event, encode_event, ByteReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = ByteReader::new(data);
    while let Ok(event) = decode_event(&mut r) {
        let mut buf = Vec::new();
        encode_event(&mut buf, &event);
        let back = decode_event(&mut ByteReader::new(&buf)).expect("re-encoded row decodes");
        assert_eq!(back, event);
        if r.is_empty() {
            break;
        }
    }
});
