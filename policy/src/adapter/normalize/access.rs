//! Settings of access resources: roles made by `dbplatform_role` (never a password in configuration: the
//! write-only `password_wo` and the ephemeral `dbplatform_credentials` exist) and the community PostgreSQL
//! provider's `postgresql_role`, whose `password` argument ends up in plan files and state.

use super::spec::{Dv, Spec, Src, Ty};

/// `dbplatform_role`: its only password argument is write-only, so none is ever in the plan.
pub(super) const DBPLATFORM_ROLE: &[Spec] =
    &[("plaintext_password_set", Ty::Bool, Src::Const(Dv::B(false)))];

/// `postgresql_role` (community provider): `password` is stored in plan and state when set.
pub(super) const POSTGRESQL_ROLE: &[Spec] = &[(
    "plaintext_password_set",
    Ty::Bool,
    Src::PasswordSet("password"),
)];
