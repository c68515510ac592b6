//! Least-privilege database roles over SQL: the templates (what each grants), reading what a role really holds,
//! and bringing a role to its template. Backend-neutral PostgreSQL: the local backend runs it over its admin
//! socket, a managed backend over the instance endpoint with its administrative login
//! ([`crate::backend::DatabaseBackend::admin_connection`]).
//!
//! Files: [`grant`] (one privilege, its canonical text and its GRANT/REVOKE), [`template`] (the four templates),
//! [`observe`] (the catalogue queries), [`reconcile`] (create, converge, drop), [`credentials`] (short-lived logins), [`break_glass`] (a person's time-bounded login), [`review`] (access review evidence), [`ident`] (quoting,
//! names).

pub mod break_glass;
pub mod credentials;
pub mod grant;
pub mod ident;
pub mod observe;
pub mod reconcile;
pub mod review;
pub mod template;

pub use grant::{Grant, ObjectKind};
pub use observe::{observe, RoleFacts};
pub use reconcile::{converge, drop_role, RoleSpec};
pub use template::Template;
