//! kevdb-bench: the event generator and the macro benchmark against peers.
//!
//! NOTE: filled in by the benchmark work (issue 5); the criterion micro
//! benches live in `benches/`.
