"""`mem consolidate`: keep memory healthy (dedupe, knowledge updates, summaries, decay, compaction)."""
