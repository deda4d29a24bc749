"""Extractive answers as a pipeline: candidates → features → ranker → span → refusal.

Each stage is a module with one job (candidates.py, features.py, ranker.py, span.py,
refusal.py); pick.py runs them in a straight line; ask.py (the `Asker`) asks it for evidence. What comes
out is an ``Answer`` (result.py), exported here.
"""

from memcli.answer.result import Answer, Citation

__all__ = ["Answer", "Citation"]
