"""The fleet: other GPU boxes driven over SSH by running `comfy-tui … --json` on them."""
