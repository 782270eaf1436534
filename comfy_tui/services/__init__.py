"""Async services: they act (git, venvs, processes, downloads) and never import Textual."""
