"""Plan renderers: text, markdown, JSON and qbXML, over one interface."""
