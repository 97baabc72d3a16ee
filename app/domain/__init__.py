"""Pure Python model of Bandeau: keys, events, clocks, shift state, totals (no Qt, SQL or HTTP)."""
