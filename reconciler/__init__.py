"""Billing configuration as code for QuickBooks Desktop."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata on first use only:
    # importlib.metadata costs a tenth of a second that `reconcile --help` need not pay.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("reconciler")
        except PackageNotFoundError:  # a source tree that was never installed
            found = "0.0.0+source"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
