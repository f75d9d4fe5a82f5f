"""What the server reports: the status view model, rendered as text and as the status page."""
