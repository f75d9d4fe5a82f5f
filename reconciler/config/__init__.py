"""The configuration directory: YAML with positions, validation, line description templates."""
