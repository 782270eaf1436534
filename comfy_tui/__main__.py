"""`python -m comfy_tui` runs the same entry point as the `comfy-tui` command."""

from comfy_tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
