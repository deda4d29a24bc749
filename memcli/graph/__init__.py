"""Graph memory: entities and relations extracted per unit, kept in LanceDB tables, built
into an igraph graph of entity and unit nodes, and searched by Personalized PageRank."""
