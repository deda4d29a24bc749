"""Retrieval: BM25 (Tantivy), dense (LanceDB), fused into one ranking."""
