//! The embedded default bundle.
