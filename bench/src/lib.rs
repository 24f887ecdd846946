//! The benchmark's reusable parts: list costs (`lists`: loading large tenants, metering
//! requests, items evaluated and capacity), used by `bench-lists`, the CI test
//! `tests/list_cost.rs` and `simulate-zipf`; the raw functions each field is measured against
//! (`raw`, the `raw-*` binaries) and the counting proxy that checks they send the same requests
//! (`proxy`). The cold/warm latency benchmark is the `bench` binary (`main.rs`).

pub mod lists;
pub mod proxy;
pub mod raw;
