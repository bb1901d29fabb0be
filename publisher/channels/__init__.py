"""Channels: one interface (``base.py``), one file per kind, a registry."""
