"""Files that set reconciler up elsewhere: a configuration repository's CI, a Windows task."""
