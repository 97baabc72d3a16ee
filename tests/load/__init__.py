"""Site-scale runs against a real store: load, log-in wave, herd (`site`), faults (`faults`)."""
