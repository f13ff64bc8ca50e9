"""Data commons for the social economy of the Metropolitan City of Turin: the kernel."""

__version__ = "0.1.0"
