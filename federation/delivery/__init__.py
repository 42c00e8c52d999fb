"""Outbound federation: block events to activities, fan-out, the delivery job, per-host health."""
