"""Airbyte source connector for Personio."""

from source_personio.source import SourcePersonio

__all__ = ["SourcePersonio"]
