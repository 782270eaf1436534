"""asyncssh, imported without the warning its DSA support raises under cryptography >= 51.

cryptography 51 deprecates DSA and asyncssh still names those types at import, so a bare
`import asyncssh` writes a `CryptographyDeprecationWarning` to stderr (over the TUI) and, under
pytest's warnings-as-errors, fails the run before it collects. Every module that needs asyncssh
imports it from here; the filter covers that one message during the import only.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated", category=UserWarning)
    import asyncssh

__all__ = ["asyncssh"]
