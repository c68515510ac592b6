//! Tamper-evident decision log.
