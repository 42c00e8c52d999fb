"""Follows between instances: the handshake in both directions."""
