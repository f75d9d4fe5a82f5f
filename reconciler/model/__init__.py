"""The domain model: configuration, charges and QuickBooks objects.

Everything here is a frozen dataclass: the reconciler is a pure function of
these values. Money and quantities are Decimal, never floats.
"""
