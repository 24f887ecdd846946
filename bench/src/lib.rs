//! The benchmark's reusable parts: list costs (`lists`: loading large tenants, metering
//! requests, items evaluated and capacity), used by `bench-lists`, the CI test
//! `tests/list_cost.rs` and `simulate-zipf`. The cold/warm latency benchmark is the `bench`
//! binary (`main.rs`).

pub mod lists;
