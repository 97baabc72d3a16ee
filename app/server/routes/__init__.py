"""The API's routes, one module per resource; each route is a thin shell over plain
functions (ingest, reports, corrections, auth, live)."""
