//! The dbpolicy command line.
