"""golive engine: load, validate and compile YAML runbooks into Prefect flows; the `golive` CLI."""
