"""Modal dialogs: help, confirm, errors.

`DIALOG_CSS` is the shared dialogs' stylesheet (`styles/dialogs.tcss`), their `CSS_PATH`:
Textual reads it when the first of them is shown, not before the first frame.
"""

from pathlib import PurePath

from comfy_tui.paths import styles_dir

DIALOG_CSS: list[str | PurePath] = [styles_dir() / "dialogs.tcss"]
