"""Stores: LanceDB (source of truth), Tantivy (BM25, derived), the write lock and journal."""
