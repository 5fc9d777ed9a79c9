"""The rollout as one governed program: each location's lifecycle, the playbook's hard rules as
guards (overridable only by a recorded approval), go-live slots and the program board."""
