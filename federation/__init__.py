"""Federation gateway: ActivityPub-style federation of knowledge-base instances."""

__version__ = "0.1.0"
# The name on the package index (and in NodeInfo): "federation" there is another project.
DISTRIBUTION = "kbfed-gateway"
