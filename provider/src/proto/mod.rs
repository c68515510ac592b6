//! Code generated from the tfplugin6 and go-plugin protocol definitions.
