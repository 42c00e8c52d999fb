"""The durable job runner, group commit, and periodic maintenance."""
