"""Remote objects: the URN resolver, remote actors and their keys, and actor lookup."""
