"""The built-in QuickBooks Web Connector (QBWC) server.

``soap`` parses and answers SOAP 1.1 calls, ``wsdl`` describes them,
``service`` answers the eleven callbacks, ``sync`` runs a session's work,
``app`` is the WSGI application and ``server`` serves it with cheroot.
"""
