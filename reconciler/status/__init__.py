"""What the server reports: status reports, their views and the status page."""
