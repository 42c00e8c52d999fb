"""The reference backend: a small system of record that speaks the backend contract."""
