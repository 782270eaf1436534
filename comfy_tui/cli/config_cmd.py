"""`comfy-tui config`: the effective settings, tokens masked, and the network the HTTP clients
use (proxies and CA bundle from the environment, proxy credentials masked)."""

from __future__ import annotations

import argparse
import json

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import out, out_json
from comfy_tui.services.net import Network


def run_config(ctx: Context, args: argparse.Namespace) -> int:
    public = ctx.settings.to_public_dict()
    network = Network.from_env().public()
    if ctx.json:
        out_json({**public, "network": network})
        return 0
    out(f"# settings file: {ctx.paths.settings_file}")
    for key, value in public.items():
        out(f"{key} = {json.dumps(value)}")
    out("# network (from HTTPS_PROXY, HTTP_PROXY, NO_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE)")
    for key, value in network.items():
        out(f"network.{key} = {json.dumps(value)}")
    return 0
