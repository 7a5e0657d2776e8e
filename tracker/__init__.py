"""Cluster tracker: progress of a Vietnamese trade-union emulation cluster (Cụm thi đua)."""

__version__ = "0.1.0"
