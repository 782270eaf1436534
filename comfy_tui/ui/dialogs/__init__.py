"""Modal dialogs: help, confirm, errors.

`DIALOG_CSS` is the shared dialogs' stylesheet (`styles/dialogs.tcss`), their `CSS_PATH`, and
`VERSION_DIALOG_CSS` that of the Versions screen's dialogs (`styles/version_dialogs.tcss`):
Textual reads each when the first of its dialogs is shown, not before the first frame.
"""

from pathlib import PurePath

from comfy_tui.paths import styles_dir

DIALOG_CSS: list[str | PurePath] = [styles_dir() / "dialogs.tcss"]
VERSION_DIALOG_CSS: list[str | PurePath] = [styles_dir() / "version_dialogs.tcss"]
