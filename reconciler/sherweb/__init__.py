"""Sherweb's Service Provider API as a charges source.

:mod:`~reconciler.sherweb.client` talks HTTP, :mod:`~reconciler.sherweb.fetch`
builds the charges file (and the live bundle ``plan --charges sherweb`` uses),
:mod:`~reconciler.sherweb.importer` and :mod:`~reconciler.base.names`
propose a first configuration from what Sherweb and QuickBooks hold.
"""
