"""Answering from memory: the Generator protocol, llama.cpp, context assembly, answers."""
