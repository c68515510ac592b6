//! Adapters: terraform plan JSON and provider planned state -> normalized inputs.
