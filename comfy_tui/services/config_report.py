"""The effective settings (tokens masked) and the network the HTTP clients use, as the text
lines `comfy-tui config` prints and the TUI's Settings report shows."""

from __future__ import annotations

import json
from typing import Any

from comfy_tui.paths import DataPaths
from comfy_tui.services.net import Network
from comfy_tui.settings import Settings


def config_document(settings: Settings) -> dict[str, Any]:
    """`config --json`: every setting (tokens masked) and `network`."""
    return {**settings.to_public_dict(), "network": Network.from_env().public()}


def config_lines(settings: Settings, paths: DataPaths) -> list[str]:
    """`config`'s text: the settings file, one `key = value` per setting, then the network."""
    document = config_document(settings)
    network = document.pop("network")
    lines = [f"# settings file: {paths.settings_file}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in document.items()]
    lines.append(
        "# network (from HTTPS_PROXY, HTTP_PROXY, NO_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE)"
    )
    lines += [f"network.{key} = {json.dumps(value)}" for key, value in network.items()]
    return lines
