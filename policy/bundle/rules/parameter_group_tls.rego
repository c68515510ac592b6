# METADATA
# title: "Parameter groups must not turn TLS off or allow old TLS versions"
# description: "A parameter group that sets rds.force_ssl = 0 or require_secure_transport = OFF, or lets clients use a TLS version older than the tier's minimum, weakens every database that uses it, now or later; it is a finding on the group itself."
# custom:
#   id: DBP-ENC-005
#   severity: high
#   enforcement: hard-mandatory
#   remediation: "Set rds.force_ssl = 1 (PostgreSQL) or require_secure_transport = ON (MySQL), and ssl_min_protocol_version / tls_version to the tier's min_tls_version or later (e.g. TLSv1.2)."
#   references:
#     checkov: [CKV2_AWS_69]
#   applies_to: [parameter_group, cluster_parameter_group]
#   attributes: [settings.parameters, tier]
package dbplatform.rules.parameter_group_tls

import rego.v1

off_values := {"0", "off", "false"}

violation contains {"msg": msg, "path": "parameters"} if {
	value := input.settings.parameters["rds.force_ssl"]
	lower(value) in off_values
	msg := sprintf("%s sets rds.force_ssl = %s, which lets clients connect without TLS", [input.address, value])
}

violation contains {"msg": msg, "path": "parameters"} if {
	value := input.settings.parameters.require_secure_transport
	lower(value) in off_values
	msg := sprintf("%s sets require_secure_transport = %s, which lets clients connect without TLS", [input.address, value])
}

# PostgreSQL: ssl_min_protocol_version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3).
violation contains {"msg": msg, "path": "parameters"} if {
	tier := data.dbplatform.tiers[input.tier]
	value := input.settings.parameters.ssl_min_protocol_version
	below(value, tier.min_tls_version)
	msg := sprintf("%s sets ssl_min_protocol_version = %s; %s requires TLS %s or later", [input.address, value, input.tier, tier.min_tls_version])
}

# MySQL: tls_version lists the versions clients may use (TLSv1.2,TLSv1.3).
violation contains {"msg": msg, "path": "parameters"} if {
	tier := data.dbplatform.tiers[input.tier]
	value := input.settings.parameters.tls_version
	some v in split(value, ",")
	below(trim_space(v), tier.min_tls_version)
	msg := sprintf("%s sets tls_version = %s; %s requires TLS %s or later", [input.address, value, input.tier, tier.min_tls_version])
}

# "TLSv1.1" -> 1.1; "1.2" -> 1.2.
version(s) := to_number(trim_prefix(lower(trim_space(s)), "tlsv")) if {
	regex.match(`^(?i:tlsv)?[0-9]+(\.[0-9]+)?$`, trim_space(s))
}

below(value, min) if version(value) < version(min)

# Unknown values cannot change the outcome when the known parameters set no TLS version below any tier's minimum
# (only that comparison depends on the tier).
not_applicable if {
	params := input.settings.parameters
	is_object(params)
	not old_for_some_tier(params)
}

old_for_some_tier(params) if {
	some t in data.dbplatform.tiers
	below(params.ssl_min_protocol_version, t.min_tls_version)
}

old_for_some_tier(params) if {
	some t in data.dbplatform.tiers
	some v in split(params.tls_version, ",")
	below(trim_space(v), t.min_tls_version)
}
