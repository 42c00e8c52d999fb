"""HTTP routes: thin handlers over the services; every error is problem+json."""
