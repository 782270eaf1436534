"""`models needs FILE --install TAG`, the node half: add and enable the repositories that
provide a workflow's missing node classes in TAG.

Each repository goes through what `nodes add` and `nodes enable` do, with the same consent:
cloning runs nothing; the package plan is shown and applied only with `--yes` or a yes on a
terminal; install.py runs only with `--run-install-script` (or a yes); source builds need
`--build-from-source`; a torch change needs `--force`; a live instance of TAG refuses the
change. A script without `--yes` stops at the first plan that changes packages (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from typing import Any

from comfy_tui.cli.nodes_cmd import apply_plan, make_plan
from comfy_tui.cli.output import err, run_cli_job
from comfy_tui.core.node_plan import node_name_from_url
from comfy_tui.errors import ComfyTuiError, NotFoundError, ValidationError
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.workflow_nodes import MissingNode


@dataclass
class NodeInstalls:
    """What `install_nodes` did: one JSON-ready entry per repository, and failure lines."""

    results: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def repositories(missing: list[MissingNode]) -> list[str]:
    """The repositories to install, each once, in the order their classes were listed."""
    return list(dict.fromkeys(n.repo for n in missing if n.repo))


async def _known(service: NodesService, name: str) -> bool:
    try:
        await service.get(name)
    except NotFoundError:
        return False
    return True


def _install_one(
    service: NodesService, url: str, tag: str, args: argparse.Namespace
) -> dict[str, Any]:
    name = node_name_from_url(url)
    entry: dict[str, Any] = {"node": name, "repo": url, "added": False, "applied": False}
    if not asyncio.run(_known(service, name)):
        err(f"adding {name} from {url}")
        run_cli_job(JobKey(JobKind.NODE_ADD, name), f"add {name}", service.add(url))
        entry["added"] = True
    if tag in asyncio.run(service.enabled_in(name)):
        entry["detail"] = f"{name} is already enabled in {tag}"
        return entry
    asyncio.run(service.check_change(name, tag, f"enable {name} in {tag}"))
    plan = make_plan(service, name, tag, args)
    entry.update(apply_plan(service, plan, args))
    entry["node"], entry["repo"] = name, url
    return entry


def install_nodes(
    service: NodesService, missing: list[MissingNode], tag: str, args: argparse.Namespace
) -> NodeInstalls:
    """Add and enable in `tag` every repository that provides a missing class. A consent a
    script did not give (ValidationError) stops everything; other failures are collected."""
    done = NodeInstalls()
    for url in repositories(missing):
        try:
            node_name_from_url(url)
        except ComfyTuiError as exc:  # a node map entry we cannot clone from
            done.failures.append(f"{url}: {exc}")
            continue
        try:
            entry = _install_one(service, url, tag, args)
        except ValidationError:
            raise
        except ComfyTuiError as exc:
            done.failures.append(f"{url}: {exc}")
            continue
        done.results.append(entry)
        if not entry["applied"] and "detail" not in entry:
            done.failures.append(f"{entry['node']}: not enabled in {tag} (declined)")
    return done
