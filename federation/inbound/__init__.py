"""Inbound federation: the inbox pipeline (checks, then a durable record), activity handlers."""
