//! The dbplatform provider, its resources and data sources.
