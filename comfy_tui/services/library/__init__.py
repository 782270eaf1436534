"""The shared model library: scan, headers, hashing, import, duplicates, mapping into versions.

`LibraryService` (service.py) is the facade the TUI and the CLI use. The launcher calls
`write_extra_model_paths` (mapping.py) or `LibraryService.write_extra_model_paths(tag)`.
"""
