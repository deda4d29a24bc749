"""memcli: a local, private command-line memory for documents and conversations."""

__version__ = "0.1.0"
