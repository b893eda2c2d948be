"""The store's own web shop as a channel: orders pushed to marketsync's API, nothing sent back."""
