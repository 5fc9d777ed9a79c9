"""The foundation every layer may use: the error tree, YAML with positions, schema issues,
durations and paths. It imports nothing else of golive's."""
