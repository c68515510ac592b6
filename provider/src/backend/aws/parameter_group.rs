//! DB parameter groups on RDS: a group as Terraform asks for it and as RDS reports it, and the calls that keep a
//! group's user-set parameters equal to what Terraform asks for (the parameter rules are in [`super::parameters`]).

use std::collections::BTreeMap;

use aws_sdk_rds::types::{ApplyMethod, Parameter, Tag};

use super::client::AwsBackend;
use super::error::ApiFailure;
use super::parameters::{apply_method, valid_group_name};
use super::spec::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use crate::backend::BackendError;

/// A parameter group as Terraform asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGroupSpec {
    pub name: String,
    /// "postgres16", "mysql8.0".
    pub family: String,
    /// "postgres" or "mysql" (decides apply methods).
    pub engine: String,
    pub description: String,
    /// All parameters to set (already merged with baselines).
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

/// A parameter group as RDS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGroupInfo {
    pub name: String,
    pub family: String,
    pub description: String,
    pub arn: String,
    /// Parameters set by a user (source "user"), i.e. everything dbplatform set.
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

fn to_parameters(engine: &str, params: &BTreeMap<String, String>) -> Vec<Parameter> {
    params
        .iter()
        .map(|(k, v)| {
            let method = if apply_method(engine, k) == "pending-reboot" {
                ApplyMethod::PendingReboot
            } else {
                ApplyMethod::Immediate
            };
            Parameter::builder()
                .parameter_name(k)
                .parameter_value(v)
                .apply_method(method)
                .build()
        })
        .collect()
}

impl AwsBackend {
    /// The group as it is now, `None` when it does not exist.
    pub async fn read_parameter_group(
        &self,
        name: &str,
    ) -> Result<Option<ParameterGroupInfo>, BackendError> {
        let out = match self
            .client()
            .describe_db_parameter_groups()
            .db_parameter_group_name(name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBParameterGroupNotFound" {
                    return Ok(None);
                }
                return Err(f.into_backend(format!("reading DB parameter group {name:?}")));
            }
        };
        let Some(g) = out.db_parameter_groups().first() else {
            return Ok(None);
        };
        let arn = g.db_parameter_group_arn().unwrap_or_default().to_string();
        let parameters = self.user_parameters(name).await?;
        let tags = if arn.is_empty() {
            BTreeMap::new()
        } else {
            self.tags_of(&arn).await?
        };
        Ok(Some(ParameterGroupInfo {
            name: name.to_string(),
            family: g
                .db_parameter_group_family()
                .unwrap_or_default()
                .to_string(),
            description: g.description().unwrap_or_default().to_string(),
            arn,
            parameters,
            tags,
        }))
    }

    /// Parameters of a group set by a user (not engine defaults), following pagination.
    pub async fn user_parameters(
        &self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, BackendError> {
        let mut out = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_db_parameters()
                .db_parameter_group_name(name)
                .source("user")
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e)
                        .into_backend(format!("reading parameters of DB parameter group {name:?}"))
                })?;
            for p in page.parameters() {
                let user_set = p.source().map(|s| s == "user").unwrap_or(true);
                if let (true, Some(k), Some(v)) =
                    (user_set, p.parameter_name(), p.parameter_value())
                {
                    out.insert(k.to_string(), v.to_string());
                }
            }
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Creates the group (or adopts one carrying our management tag) and makes its user parameters equal to
    /// `spec.parameters`: changed ones modified, removed ones reset to the engine default.
    pub async fn ensure_parameter_group(
        &self,
        spec: &ParameterGroupSpec,
    ) -> Result<ParameterGroupInfo, BackendError> {
        if !valid_group_name(&spec.name) {
            return Err(BackendError::Invalid {
                field: "name".into(),
                message: format!("{:?} is not a valid parameter group name: letters, digits and hyphens, starting with a letter, no \"--\", not ending with a hyphen", spec.name),
            });
        }
        let current = match self.read_parameter_group(&spec.name).await? {
            Some(g) => {
                if g.tags.get(MANAGED_TAG_KEY).map(String::as_str) != Some(MANAGED_TAG_VALUE) {
                    return Err(BackendError::AlreadyExists {
                        name: spec.name.clone(),
                        location: format!(
                            "RDS parameter group {} (not created by dbplatform)",
                            g.arn
                        ),
                    });
                }
                if g.family != spec.family {
                    return Err(BackendError::Invalid {
                        field: "family".into(),
                        message: format!(
                            "parameter group {:?} has family {} and cannot change to {}; it must be replaced",
                            spec.name, g.family, spec.family
                        ),
                    });
                }
                g
            }
            None => {
                let mut tags: Vec<Tag> = spec
                    .tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect();
                tags.push(
                    Tag::builder()
                        .key(MANAGED_TAG_KEY)
                        .value(MANAGED_TAG_VALUE)
                        .build(),
                );
                let res = self
                    .client()
                    .create_db_parameter_group()
                    .db_parameter_group_name(&spec.name)
                    .db_parameter_group_family(&spec.family)
                    .description(&spec.description)
                    .set_tags(Some(tags))
                    .send()
                    .await;
                if let Err(e) = res {
                    let f = ApiFailure::from_sdk(&e);
                    // A retried create whose first attempt went through: carry on with the group that exists.
                    if f.code != "DBParameterGroupAlreadyExists" {
                        return Err(
                            f.into_backend(format!("creating DB parameter group {:?}", spec.name))
                        );
                    }
                }
                match self.read_parameter_group(&spec.name).await? {
                    Some(g) => g,
                    None => {
                        return Err(BackendError::Command {
                            what: format!("creating DB parameter group {:?}", spec.name),
                            status: "not found after create".into(),
                            output: "RDS reported success but the group cannot be described; run terraform apply again".into(),
                        })
                    }
                }
            }
        };
        let changed: BTreeMap<String, String> = spec
            .parameters
            .iter()
            .filter(|(k, v)| current.parameters.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed: BTreeMap<String, String> = current
            .parameters
            .iter()
            .filter(|(k, _)| !spec.parameters.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let changed_list = to_parameters(&spec.engine, &changed);
        for chunk in changed_list.chunks(20) {
            self.client()
                .modify_db_parameter_group()
                .db_parameter_group_name(&spec.name)
                .set_parameters(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e).into_backend(format!(
                        "setting parameters of DB parameter group {:?}",
                        spec.name
                    ))
                })?;
        }
        let removed_list = to_parameters(&spec.engine, &removed);
        for chunk in removed_list.chunks(20) {
            self.client()
                .reset_db_parameter_group()
                .db_parameter_group_name(&spec.name)
                .set_parameters(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    ApiFailure::from_sdk(&e).into_backend(format!(
                        "resetting parameters of DB parameter group {:?}",
                        spec.name
                    ))
                })?;
        }
        // Tags: bring the user's tags in line (ours stay).
        let mut want = spec.tags.clone();
        want.insert(MANAGED_TAG_KEY.into(), MANAGED_TAG_VALUE.into());
        self.sync_tags(&current.arn, &current.tags, &want).await?;
        self.read_parameter_group(&spec.name)
            .await?
            .ok_or_else(|| BackendError::NotFound {
                backend: "aws",
                name: spec.name.clone(),
            })
    }

    /// Deletes a group; a group that is already gone is fine.
    pub async fn delete_parameter_group(&self, name: &str) -> Result<(), BackendError> {
        match self
            .client()
            .delete_db_parameter_group()
            .db_parameter_group_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let f = ApiFailure::from_sdk(&e);
                if f.code == "DBParameterGroupNotFound" {
                    return Ok(());
                }
                if f.code == "InvalidDBParameterGroupState" {
                    return Err(BackendError::Command {
                        what: format!("deleting DB parameter group {name:?}"),
                        status: f.code,
                        output: format!(
                            "{}; it is still attached to a database: point that database's parameter_group_name elsewhere first",
                            f.message
                        ),
                    });
                }
                Err(f.into_backend(format!("deleting DB parameter group {name:?}")))
            }
        }
    }
}
