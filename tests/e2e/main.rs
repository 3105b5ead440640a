//! End-to-end: the real component through the real host against the mock Hub.

mod component;
mod host_policy;
mod smoke;
mod typed;
