"""The HTTP API (Litestar): controllers, wire schemas, problems, security."""
