//! The provider configuration schema: every attribute and nested block of `provider "dbplatform" { ... }`, with
//! the descriptions Terraform and the generated docs show.

use crate::framework::{Attribute, Block, Nesting, Type};

/// The provider configuration schema (every attribute optional).
pub fn provider_block() -> Block {
    Block::new("Configures where dbplatform creates databases and how its guardrails are enforced.")
        .attribute(Attribute::optional(
            "backend",
            Type::String,
            "Where databases are created: \"aws\" (Amazon RDS) or \"local\" (PostgreSQL on this machine). \
             Default \"local\".",
        ))
        .attribute(Attribute::optional(
            "default_tags",
            Type::Map(Box::new(Type::String)),
            "Tags applied to every database this provider manages; a resource's own tags win on conflict. \
             Policies see the merged tags.",
        ))
        .block(
            "aws",
            Nesting::Single,
            Block::new("Amazon RDS settings, used when backend = \"aws\".")
                .attribute(Attribute::optional(
                    "region",
                    Type::String,
                    "AWS region, e.g. \"eu-west-1\". Default: the AWS SDK chain (AWS_REGION, profile).",
                ))
                .attribute(Attribute::optional(
                    "endpoint",
                    Type::String,
                    "Override of the RDS API endpoint URL (http:// or https://), e.g. a local moto_server for \
                     tests. Default: the AWS endpoint of the region.",
                ))
                .attribute(Attribute::optional(
                    "profile",
                    Type::String,
                    "Named profile from the AWS shared config and credentials files. Default: the AWS SDK chain.",
                ))
                .attribute(Attribute::optional(
                    "max_retries",
                    Type::Number,
                    "How many times a throttled or failed AWS API call is retried, 0 to 20. Default 3.",
                )),
        )
        .block(
            "local",
            Nesting::Single,
            Block::new("Local PostgreSQL settings, used when backend = \"local\".")
                .attribute(Attribute::optional(
                    "data_dir",
                    Type::String,
                    "Directory holding local clusters, backups and WAL archives. Default \
                     $XDG_DATA_HOME/dbplatform, else ~/.local/share/dbplatform. Relative paths are resolved against \
                     Terraform's working directory.",
                ))
                .attribute(Attribute::optional(
                    "final_backup_retention_count",
                    Type::Number,
                    "How many final backups (taken on destroy) are kept per database name, newest first, 1 to 1000. \
                     Default 3.",
                ))
                .attribute(Attribute::optional(
                    "final_backup_retention_days",
                    Type::Number,
                    "Final backups older than this many days are removed at the next destroy, 1 to 3650. Default 30.",
                ))
                .attribute(Attribute::optional(
                    "base_backup_wal_percent",
                    Type::Number,
                    "A new base backup is taken (on refresh and apply) once the WAL archived since the newest one \
                     exceeds this percentage of the data files, so a restore replays at most about that much WAL; 0 \
                     to 1000, 0 = by age only (every 24 h). Default 50.",
                )),
        )
        .block(
            "policy",
            Nesting::Single,
            Block::new("Guardrail (policy) settings.")
                .attribute(Attribute::optional(
                    "directories",
                    Type::List(Box::new(Type::String)),
                    "Extra directories of .rego rules evaluated together with the embedded default bundle.",
                ))
                .attribute(Attribute::optional(
                    "exceptions_file",
                    Type::String,
                    "File of time-boxed policy exceptions (see the policy authoring guide). Must exist when set.",
                ))
                .attribute(Attribute::optional(
                    "audit_log",
                    Type::String,
                    "File every plan-time policy decision is appended to (hash-chained JSON lines; verify with \
                     `dbpolicy audit verify`). Default: the DBPOLICY_AUDIT_LOG environment variable; unset means \
                     no audit log. Its directory must exist. A decision that cannot be written fails the plan \
                     (fail closed); overrides need it.",
                ))
                .attribute(Attribute::optional(
                    "tiers_file",
                    Type::String,
                    "Tier catalogue (TOML, or JSON when the name ends in .json) replacing the embedded one, for \
                     both tier expansion and the rules.",
                ))
                .attribute(Attribute::optional(
                    "enforcement_override",
                    Type::String,
                    "Break-glass switch: \"advisory\" reports every policy failure as a warning instead of an \
                     error. Every plan shows a warning while it is set; decisions are still audited. Omit for \
                     normal enforcement.",
                ))
                .block(
                    "override",
                    Nesting::List,
                    Block::new(
                        "Overrides a failing soft-mandatory rule for every database of this provider, with who \
                         and why. Takes effect only when policy.audit_log (or DBPOLICY_AUDIT_LOG) is set and the \
                         decision is recorded; hard-mandatory rules cannot be overridden. Repeatable; more can come \
                         from DBPLATFORM_OVERRIDES (\"RULE_ID:by:reason;...\").",
                    )
                    .attribute(Attribute::required(
                        "rule",
                        Type::String,
                        "Id of the soft-mandatory rule to override, e.g. \"DBP-DEL-002\" (see `dbpolicy rules`).",
                    ))
                    .attribute(Attribute::required(
                        "reason",
                        Type::String,
                        "Why the violation is acceptable this time; written to the audit log.",
                    ))
                    .attribute(Attribute::required(
                        "by",
                        Type::String,
                        "Who approves the override and takes responsibility (name or e-mail); written to the \
                         audit log.",
                    )),
                ),
        )
}
