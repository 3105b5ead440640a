//! End-to-end: the real component through the real host against the mock Hub.

#![deny(unsafe_code)]

mod access_tokens;
mod architecture;
mod audit_logs;
mod authentication;
mod component;
mod coverage;
mod faults;
mod groups;
mod hardening;
mod host_policy;
mod instances;
mod invalid_arguments;
mod invites;
mod org_access_tokens;
mod org_settings;
mod orgs;
mod pool;
mod repositories;
mod scim;
mod search;
mod security;
mod smoke;
mod standalone;
mod typed;
mod users;
