//! Placeholder until the mock Hub lands.
