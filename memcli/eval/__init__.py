"""Evaluation harness: the same queries through several retrieval modes, side by side."""
