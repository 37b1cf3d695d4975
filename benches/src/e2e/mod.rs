//! End to end: what a delivered span costs the whole process (the calling
//! thread, the export worker, encoding and gRPC), measured with a real
//! collector that counts what arrives.
//!
//! Every run is a child process of the `e2e` binary pinned to one core, with
//! the collector (rotel, blackhole exporter, counting each request it
//! receives) on the other, so that the figures describe the program and not
//! the collector beside it.

pub mod collector;
pub mod compare;
pub mod contenders;
pub mod paced;
pub mod run;
