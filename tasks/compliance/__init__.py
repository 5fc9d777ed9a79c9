"""Security, HIPAA, access control and configuration standards (playbook section 5, its last part).

Plain modules, each a noun: `requirements` (the enterprise HIPAA checklist as data), `evidence`
(files stored with their hash, who supplied them and when; automated checks' reports), `status`
(every requirement's state, the PHI guard's answer, the security and compliance status), `tls`,
`audit_export`, `deletion` (the automated verifications; `endpoint` keeps their URLs safe),
`directory` + `scim` + `access` (the Access Control Matrix against the identity provider),
`standards` (enterprise configuration standards and drift), `migration` (sample validation
counts), `manifest` (evidence supplied as a YAML list). `kinds` wraps them as step kinds;
`simulators` holds the SCIM and platform API simulators used by tests and the demo.
"""
