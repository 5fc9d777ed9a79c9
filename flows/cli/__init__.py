"""The `golive` command line, the demo and the long-lived local Prefect server: the top layer."""
