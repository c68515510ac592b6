//! The policy engine: bundles, METADATA, prepared engines, evaluation, unknowns, exceptions, overrides.
