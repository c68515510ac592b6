//! `xtask deps`: the offline dependency check `make lint` always runs: every crate's licence is allowed, no banned
//! crate is in the tree, and every crate comes from crates.io — the `[licenses]`, `[bans].deny` and `[sources]`
//! policy of `deny.toml`, read from that same file.
//!
//! Why beside cargo-deny: cargo-deny is the full tool (`make deny` runs it when installed) but it takes minutes to
//! build and has no prebuilt binary reachable from CI, so without this check the policy in `deny.toml` would
//! silently go unchecked on a fresh machine. Advisories need the RustSec database from the network and stay with
//! `make advisories`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::error::CheckError;

/// The crates.io index, as `cargo metadata` names it (git and sparse protocols).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The parts of `deny.toml` this check enforces.
#[derive(Debug, Deserialize)]
pub struct Policy {
    licenses: Licenses,
    #[serde(default)]
    bans: Bans,
    #[serde(default)]
    graph: Graph,
}

#[derive(Debug, Deserialize)]
struct Licenses {
    allow: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Bans {
    #[serde(default)]
    deny: Vec<Ban>,
}

#[derive(Debug, Deserialize)]
struct Ban {
    #[serde(rename = "crate", alias = "name")]
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct Graph {
    #[serde(default)]
    targets: Vec<String>,
}

/// One crate of the resolved dependency graph, as `cargo metadata` reports it.
#[derive(Debug, Deserialize)]
pub struct Package {
    name: String,
    version: String,
    license: Option<String>,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

impl Policy {
    /// Read the policy from a `deny.toml`.
    pub fn load(path: &Path) -> Result<Self, CheckError> {
        let text = std::fs::read_to_string(path).map_err(|e| CheckError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| CheckError::Config {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Every way `packages` break the policy, one line each naming the crate, what is wrong and the fix.
    pub fn problems(&self, packages: &[Package]) -> Vec<String> {
        let allowed: BTreeSet<&str> = self.licenses.allow.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        for p in packages {
            // Workspace members have no source: their licence is ours, their code is this repository.
            let Some(source) = &p.source else { continue };
            let who = format!("{} {}", p.name, p.version);
            if !CRATES_IO.contains(&source.as_str()) {
                out.push(format!(
                    "{who}: comes from {source}, not crates.io; publish it or add the source to [sources] in deny.toml"
                ));
            }
            if self.bans.deny.iter().any(|b| b.name == p.name) {
                out.push(format!(
                    "{who}: banned in deny.toml [bans].deny; see the reason there and use the replacement it names"
                ));
            }
            match &p.license {
                None => out.push(format!(
                    "{who}: declares no licence expression; clarify it in deny.toml or replace the crate"
                )),
                Some(expr) => {
                    if let Some(problem) = licence_problem(expr, &allowed) {
                        out.push(format!("{who}: {problem}"));
                    }
                }
            }
        }
        out
    }
}

/// Why a licence expression is not satisfied by the allowed licences, or `None` when it is.
fn licence_problem(expr: &str, allowed: &BTreeSet<&str>) -> Option<String> {
    let parsed = match spdx::Expression::parse_mode(expr, spdx::ParseMode::LAX) {
        Ok(p) => p,
        Err(e) => return Some(format!("licence `{expr}` is not an SPDX expression ({e})")),
    };
    let ok = parsed.evaluate(|req| {
        req.addition.is_none() && req.license.id().is_some_and(|id| allowed.contains(id.name))
    });
    (!ok).then(|| {
        format!(
            "licence `{expr}` is not allowed; allowed: {} (a new licence is a decision: add it to [licenses].allow in deny.toml)",
            allowed.iter().copied().collect::<Vec<_>>().join(", ")
        )
    })
}

/// The crates `cargo metadata` resolves for the policy's targets, offline and from the lock file as it is.
pub fn resolved_packages(policy: &Policy) -> Result<Vec<Package>, CheckError> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["metadata", "--format-version", "1", "--locked", "--offline"]);
    for t in &policy.graph.targets {
        cmd.args(["--filter-platform", t]);
    }
    let out = cmd.output().map_err(|e| CheckError::Read {
        path: "cargo metadata".into(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(CheckError::Read {
            path: "cargo metadata".into(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout).map_err(|e| CheckError::Config {
        path: "cargo metadata output".into(),
        message: e.to_string(),
    })?;
    Ok(meta.packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        toml::from_str(
            r#"
[licenses]
allow = ["MIT", "Apache-2.0"]
[bans]
deny = [{ crate = "serde_yaml" }]
[sources]
unknown-git = "deny"
"#,
        )
        .unwrap()
    }

    fn pkg(name: &str, license: Option<&str>, source: Option<&str>) -> Package {
        Package {
            name: name.into(),
            version: "1.0.0".into(),
            license: license.map(Into::into),
            source: source.map(Into::into),
        }
    }

    #[test]
    fn allowed_licences_bans_and_sources_are_checked_with_a_fix_each() {
        let reg = Some(CRATES_IO[0]);
        let problems = policy().problems(&[
            pkg("ok", Some("MIT OR Apache-2.0"), reg),
            pkg("old-slash-syntax", Some("MIT/Apache-2.0"), reg),
            pkg("one-of-and", Some("MIT AND GPL-3.0"), reg),
            pkg("copyleft", Some("GPL-3.0-only"), reg),
            pkg("unlicensed", None, reg),
            pkg("serde_yaml", Some("MIT"), reg),
            pkg("gitdep", Some("MIT"), Some("git+https://example.com/x")),
            pkg("workspace-member", None, None),
        ]);
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(
            problems[0].starts_with("one-of-and 1.0.0: licence `MIT AND GPL-3.0` is not allowed")
        );
        assert!(problems[1].starts_with("copyleft 1.0.0: licence `GPL-3.0-only`"));
        assert!(problems[2].contains("unlicensed 1.0.0: declares no licence"));
        assert!(problems[3].contains("serde_yaml 1.0.0: banned"));
        assert!(problems[4]
            .contains("gitdep 1.0.0: comes from git+https://example.com/x, not crates.io"));
    }

    #[test]
    fn the_repository_deny_toml_holds_for_the_lock_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let policy = Policy::load(&root.join("deny.toml")).unwrap();
        let packages = resolved_packages(&policy).unwrap();
        assert!(
            packages.len() > 100,
            "cargo metadata listed only {} crates",
            packages.len()
        );
        assert_eq!(policy.problems(&packages), Vec::<String>::new());
    }
}
