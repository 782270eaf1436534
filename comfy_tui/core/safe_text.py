"""Text from users made safe to echo in a one-line message on a terminal.

A tag, path or URL typed by a user (or read from a file) can hold newlines, an ESC that starts
a terminal control sequence, or a right-to-left override that disguises what is shown. Every
error message passes through `escape_text` before it is printed (CLI) or shown (TUI).
"""

from __future__ import annotations

__all__ = ["escape_text"]


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_text(text: str) -> str:
    """`text` with every non-printable character (controls, format and separator characters
    other than the plain space) written as a Python-style escape such as `\\x1b`."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
