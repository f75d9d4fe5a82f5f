"""Queueing a plan (apply) and the configuration as last applied (the profile)."""
