"""Federation gateway: ActivityPub-style federation of knowledge-base instances."""

__version__ = "0.1.0"
