"""Connectors: how data enters the commons (public statistics and donated microdata)."""
