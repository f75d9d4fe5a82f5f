"""Command-line commands, one module per group of commands."""
