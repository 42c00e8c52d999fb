"""Admin: use cases (service), the HTTP API and its OpenAPI document, the CLI, the page."""
