"""The one signed HTTP client and the SSRF guard it connects through."""
