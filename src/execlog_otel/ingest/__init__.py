

# The OTLP/HTTP receiver's routes (Flask endpoints): guarded by the ingest token and their own body limits,
# so the viewer's sign-in, CSRF check and body checks leave them alone.
RECEIVER_ENDPOINTS = frozenset({"ingest.traces", "ingest.logs", "ingest.metrics"})
