"""The built-in QuickBooks Web Connector (QBWC) server.

``soap`` parses and answers SOAP 1.1 calls, ``wsdl`` describes them,
``service`` answers the eleven callbacks, ``run`` carries out a session's work
phase by phase (sign-in and version, refresh, settle, write, report), ``outcome``
judges a modification whose answer was lost, and ``app`` is the WSGI application
(``reconciler.web.server`` serves it with cheroot).
"""
