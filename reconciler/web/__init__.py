"""The one WSGI application (/qbwc, /api, /status) and the server that runs it."""
