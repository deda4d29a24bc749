"""Ingest: find files, read them, cut them into memory units, embed and store them."""
