"""The server's JSON API (``/api/v1/``) and status page (``/status``), and a client for both.

CI plans against the server's latest QuickBooks snapshot and submits the
plan it reviewed, with nobody logging in to the QuickBooks machine. Every
call carries a bearer token (``reconcile token create``) that belongs to one
company and may read (scope ``plan``) or also submit plans (scope ``apply``).
"""
