//! The `kevdb` binary.
fn main() {}
