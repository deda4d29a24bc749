"""`mem ui`: the page a person opens to see their memory (search, answers, sources, a
timeline, the graph, health), served by the home's resident process on 127.0.0.1."""
