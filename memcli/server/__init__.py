"""The resident memory process (`mem serve`) and the thin client every `mem` starts with.

The server keeps the embedder, the stores and (lazily) the GGUF loaded and runs the very
same CLI commands in-process, so output, exit codes and ``--json`` are identical; the
client only relays argv, environment, terminal facts and stdin, and falls back to doing
the work itself whenever no server answers.
"""
