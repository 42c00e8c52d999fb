"""What operators see of a running gateway: structured logs, metrics and traces."""
