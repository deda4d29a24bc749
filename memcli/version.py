"""The package version, in the bottom layer so that any module may name it (archives, the
server handshake, MCP) without importing the package root and its public names."""

__version__ = "0.1.0"
