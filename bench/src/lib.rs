//! The benchmark's reusable parts: list costs (`lists`, for `bench-lists` and the CI test).
//! The cold/warm latency benchmark is the `bench` binary (`main.rs`).

pub mod lists;
