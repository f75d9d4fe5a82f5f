"""Commands of the ``reconcile`` command line, one module per area."""
