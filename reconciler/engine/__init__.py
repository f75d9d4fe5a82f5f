"""From configuration and charges to changes: periods, desired invoices, the diff, fingerprints."""
