//! The tfplugin6 Provider service: a thin adapter per RPC over the framework traits.
