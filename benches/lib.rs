//! Benchmark harnesses for Tend live in `benches/benches/`.
