"""The client side of the sync protocol: drains the journal into the central store."""
