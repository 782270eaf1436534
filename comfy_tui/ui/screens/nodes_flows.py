"""The Nodes screen's multi-step flows: pick a version, review what changes, then start a job.

Each flow runs in a worker of the screen (dialogs are awaited with `push_screen_wait`); the
change itself is an App job (`nodes:enable:<name>:<tag>`, `snapshot:restore:<tag>`), so it
survives screen switches. Service errors become an error dialog; nothing is changed then.
A version with a live instance is refused before any question (`ui/guards.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comfy_tui.core.req_policy import RequirementsRefused
from comfy_tui.errors import ComfyTuiError
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.nodes import DepsPlan, NodeInfo
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.envsnaps import SnapshotsScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.review import ReviewScreen
from comfy_tui.ui.guards import refused

if TYPE_CHECKING:
    from comfy_tui.ui.screens.nodes import NodesScreen

BUILD_WARNING = (
    "Building runs each package's own setup code with your rights, before anything is "
    "installed. Build only what you trust."
)
SCRIPT_WARNING = [
    "install.py runs the node authors' own code with this version's Python.",
    "Run it only if the node's README asks for it. A snapshot is taken first either way.",
]


async def pick_version(screen: NodesScreen, title: str, tags: list[str]) -> str | None:
    if len(tags) == 1:
        return tags[0]
    return await screen.app.push_screen_wait(PickScreen(title, [(t, t) for t in tags]))


async def _fail(screen: NodesScreen, title: str, exc: ComfyTuiError) -> None:
    await screen.app.push_screen_wait(screen.comfy_app.error_screen(title, exc))


async def enable(screen: NodesScreen, info: NodeInfo) -> None:
    versions = list(screen.overview.versions) if screen.overview else []
    candidates = [t for t in versions if t not in info.enabled_in]
    if not versions:
        screen.notify("Install a ComfyUI version first (1, then i)", severity="warning")
        return
    if not candidates:
        screen.notify(f"{info.name} is enabled in every installed version", severity="warning")
        return
    tag = await pick_version(screen, f"Enable {info.name} in which version?", candidates)
    if tag is not None and not await _in_use(screen, info.name, tag, "enable"):
        await dependencies(screen, info.name, tag)


async def _ask(screen: NodesScreen, title: str, lines: list[str], question: str, yes: str) -> bool:
    """A danger review: "no" keeps the focus."""
    answer: bool = await screen.app.push_screen_wait(
        ReviewScreen(title, lines, question, yes=yes, no="Cancel", danger=True)
    )
    return answer


async def _in_use(screen: NodesScreen, name: str, tags: str | tuple[str, ...], verb: str) -> bool:
    """Refuse at once (True) when `verb`-ing node `name` touches a version that runs."""
    where = f" in {tags}" if isinstance(tags, str) else ""
    doing = f"{verb} {name}{where}"
    check = screen.comfy_app.services.nodes.check_change(name, tags, doing)
    return await refused(screen.app, doing[0].upper() + doing[1:], check)


async def _plan(screen: NodesScreen, name: str, tag: str) -> DepsPlan | None:
    """Plan, asking in turn about refused requirement lines (shown exactly), source builds
    (their setup code runs) and a torch change; each yes plans again with that allowed."""
    nodes = screen.comfy_app.services.nodes
    allow = {"allow_direct_refs": False, "allow_builds": False, "force": False}
    try:
        while True:
            screen.set_status(f"checking what {name} needs in {tag} (uv dry run)…")
            try:
                plan = await nodes.plan(name, tag, **allow)
            except RequirementsRefused as lines_refused:
                lines = [f"{r.source} line {r.number}: {r.text}" for r in lines_refused.lines]
                reasons = sorted({f"• {r.reason}" for r in lines_refused.lines})
                if not await _ask(
                    screen,
                    f"{name}'s requirements ask for more than package names",
                    [*lines, "", *reasons],
                    "These lines can take code from anywhere. Go on with them?",
                    "Go on",
                ):
                    return None
                allow["allow_direct_refs"] = True
                continue
            finally:
                screen.set_status("")
            if plan.builds_blocked:
                if not await _ask(
                    screen,
                    f"{name} needs packages built from source in {tag}",
                    [*plan.build_lines(), "", BUILD_WARNING],
                    "Build them?",
                    "Build",
                ):
                    return None
                allow["allow_builds"] = True
                continue
            if plan.blocked:
                lines = [c.describe() for c in plan.torch_changes]
                lines.append("This is how a custom node breaks ComfyUI. A snapshot is taken first.")
                if not await _ask(
                    screen,
                    f"{name} wants another torch in {tag}",
                    lines,
                    "Change the torch family anyway?",
                    "Change torch",
                ):
                    return None
                allow["force"] = True
                continue
            return plan
    except ComfyTuiError as exc:
        await _fail(screen, f"{name} cannot be enabled in {tag}", exc)
        return None


async def dependencies(
    screen: NodesScreen, name: str, tag: str, *, after_update: bool = False
) -> None:
    """Plan, review, and start the enable job (after an update: only when something changes)."""
    plan = await _plan(screen, name, tag)
    if plan is None or (after_update and not plan.changes):
        return
    app = screen.app
    if plan.changes:
        count = len(plan.changes)
        title = f"{'Update' if after_update else 'Enable'} {name} in {tag}"
        question = f"Apply these {count} package change(s) to {tag}'s environment?"
        if not await app.push_screen_wait(
            ReviewScreen(title, plan.summary(), question, yes="Apply", no="Cancel")
        ):
            return
    run_script = False
    if plan.install_script and not after_update:
        run_script = await app.push_screen_wait(
            ReviewScreen(
                f"{name} has an install.py",
                SCRIPT_WARNING,
                "Run install.py?",
                yes="Run it",
                no="Skip",
                danger=True,
            )
        )
    nodes = screen.comfy_app.services.nodes
    verb = "update" if after_update else "enable"
    screen.start_job(
        JobKey(JobKind.NODE_ENABLE, name, version=tag),
        f"{verb} {name} in {tag}",
        lambda: nodes.enable(plan, run_install_script=run_script),
    )


async def disable(screen: NodesScreen, info: NodeInfo) -> None:
    if not info.enabled_in:
        screen.notify(f"{info.name} is not enabled in any version", severity="warning")
        return
    tag = await pick_version(
        screen, f"Disable {info.name} in which version?", list(info.enabled_in)
    )
    if tag is None or await _in_use(screen, info.name, tag, "disable"):
        return
    try:
        before = await screen.comfy_app.services.nodes.disable(info.name, tag)
    except ComfyTuiError as exc:
        await _fail(screen, f"Disabling {info.name} in {tag} failed", exc)
        return
    screen.notify(
        f"{info.name} is disabled in {tag}; its packages stay. Snapshot {before.id} holds the "
        "state before (s restores it).",
        title="Disable",
    )
    screen.reload()


async def remove(screen: NodesScreen, info: NodeInfo) -> None:
    users = f" It is disabled in {', '.join(info.enabled_in)} first." if info.enabled_in else ""
    question = f"Delete the shared node {info.name} and its checkout?{users}"
    if await _in_use(screen, info.name, info.enabled_in, "remove"):
        return
    if not await screen.app.push_screen_wait(ConfirmScreen(question, yes="Delete", no="Keep")):
        return
    try:
        await screen.comfy_app.services.nodes.remove(info.name)
    except ComfyTuiError as exc:
        await _fail(screen, f"Removing {info.name} failed", exc)
        return
    screen.notify(f"{info.name} was removed", title="Remove")
    screen.reload()


async def snapshots(screen: NodesScreen, preferred: str | None) -> None:
    versions = list(screen.overview.versions) if screen.overview else []
    if not versions:
        screen.notify("No version is installed: nothing to snapshot", severity="warning")
        return
    if preferred in versions:  # the selected node's version first
        versions.remove(preferred)
        versions.insert(0, preferred)
    tag = await pick_version(screen, "Snapshots of which version?", versions)
    if tag is None:
        return
    nodes = screen.comfy_app.services.nodes
    try:
        choice = await screen.app.push_screen_wait(
            SnapshotsScreen(tag, await nodes.snapshots.list(tag))
        )
        if choice is None:
            return
        if choice.action == "create":
            taken = await nodes.snapshots.create(tag)
            screen.notify(f"Snapshot {taken.id} of {tag} taken", title="Snapshot")
            return
        if await refused(screen.app, f"Restore {tag}", nodes.check_restore(tag)):
            return
        preview = await nodes.snapshots.preview(tag, choice.snapshot_id)
    except ComfyTuiError as exc:
        await _fail(screen, f"Snapshots of {tag}", exc)
        return
    target = preview.snapshot
    lines = [c.describe() for c in preview.packages] + list(preview.nodes)
    question = f"Restore {tag}? Its current state is saved as a snapshot first."
    title = f"Restore {tag} to {target.id} ({target.reason})"
    if not await screen.app.push_screen_wait(
        ReviewScreen(
            title, lines or ["nothing differs from now"], question, yes="Restore", no="Cancel"
        )
    ):
        return
    screen.start_job(
        JobKey(JobKind.ENV_RESTORE, tag),
        f"restore {tag} to {target.id}",
        lambda: nodes.restore(tag, target.id),
    )
