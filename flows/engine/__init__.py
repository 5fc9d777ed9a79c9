"""The engine: load, validate and compile runbooks, and run them as Prefect flows.

Imports the step-kind registry and the store below it, never the command line above it.
"""
