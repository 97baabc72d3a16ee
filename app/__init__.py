"""Bandeau: a three-key status bar for call-centre agents."""

__version__ = "0.1.0"
