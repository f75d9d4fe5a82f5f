"""qbXML: request templates, the response parser, status codes, versions."""
