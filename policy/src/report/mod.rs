//! Output formats for decisions.
