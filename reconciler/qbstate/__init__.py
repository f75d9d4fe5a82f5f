"""Where the QuickBooks state of a plan comes from: qbXML files, the stored snapshot, the server."""
