"""qbXML: request templates, the response parser, status codes, versions.

- :mod:`~reconciler.qbxml.queries`: the read requests, as values;
- :mod:`~reconciler.qbxml.render`: queries and plan changes to qbXML (Jinja templates);
- :mod:`~reconciler.qbxml.values`: what QuickBooks can store (text, numbers, GUIDs);
- :mod:`~reconciler.qbxml.parse`: response documents to the domain model (streaming);
- :mod:`~reconciler.qbxml.rets`: model objects from ``*Ret`` elements;
- :mod:`~reconciler.qbxml.status`: status codes and what to do about them;
- :mod:`~reconciler.qbxml.version`: version negotiation and fields per version;
- :mod:`~reconciler.qbxml.xsd`: checking documents against Intuit's XSD.
"""
