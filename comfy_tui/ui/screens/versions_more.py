"""The Versions screen's keys for the CLI's other version commands: `U` update (`comfy-tui
update NAME [--to REF]`), `b` rollback (`rollback NAME`), `A` audit (`audit TAG`), `o` share one
of the version's own nodes (`nodes adopt NAME TAG`, also the adopt dialog's `s`), `e` size a
release now (`releases --estimate`, for one beyond the newest the screen sizes itself); and
remove's guard, which offers to stop a running version first.

`VersionsScreen`'s `action_*` methods call these with the screen; each goes through the same
services (`services.lifecycle`, `services.audit`) the CLI's handlers use. What awaits a service
after a dialog runs in the screen's `@work` methods (`ask_first`, `stop_first`,
`estimate_size`); a change with progress is an App job (`start_job`). A change a live
instance forbids asks one question that offers the way out ("v0.3.77 is running on :8188 —
stop it and update?"), never "are you sure?" followed by a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from comfy_tui.errors import ComfyTuiError, ValidationError
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.ui.guards import in_use_question, stop_live

if TYPE_CHECKING:
    from comfy_tui.store.instance_records import InstanceRecord
    from comfy_tui.ui.screens.versions import VersionsScreen
    from comfy_tui.ui.version_rows import VersionRow


def installed_row(screen: VersionsScreen, what: str) -> VersionRow | None:
    row = screen.selected()
    if row is None or not row.installed:
        screen.notify(f"Select an installed version to {what}", severity="warning")
        return None
    return row


async def ask(
    screen: VersionsScreen,
    tag: str,
    doing: str,
    question: str,
    yes: str,
    go: Callable[[], None],
) -> None:
    """One question before a change of `tag`: `question` when nothing of it runs, else the
    offer to stop its instances first; yes (stopping them first, in the screen's worker
    `stop_first`, when live) calls `go`."""
    from comfy_tui.ui.dialogs.confirm import ConfirmScreen

    live = await screen.comfy_app.services.guard.live(tag)

    def answered(agreed: bool | None) -> None:
        if agreed and live:
            screen.stop_first(tag, live, go)
        elif agreed:
            go()

    if live:
        dialog = ConfirmScreen(in_use_question(tag, live, doing), yes=f"Stop and {doing}")
    else:
        dialog = ConfirmScreen(question, yes=yes, no="Keep")
    screen.app.push_screen(dialog, answered)


async def stop_then(
    screen: VersionsScreen, tag: str, live: Sequence[InstanceRecord], go: Callable[[], None]
) -> None:
    """Stop `live` (the instances of `tag`), then `go`; a failure is shown and stops there."""
    try:
        await stop_live(screen.comfy_app.services.instances, live)
    except ComfyTuiError as exc:
        screen.show_error(f"Stop {tag}'s instances failed", exc)
        return
    go()


def update(screen: VersionsScreen) -> None:
    """The ref to move to (empty: the newest commit of its branch), then the guard's question."""
    from comfy_tui.ui.dialogs.text_input import TextInputScreen

    row = installed_row(screen, "update")
    if row is None:
        return
    tag = row.tag
    dialog = TextInputScreen(
        f"Update {tag}",
        "Move to (a tag, branch or commit; empty: the newest commit of its branch)",
        placeholder="master",
        validate=_ref_problem,
        allow_empty=True,
    )

    def start(to: str | None) -> None:
        life = screen.comfy_app.services.lifecycle
        try:
            events = life.update(tag, to)
        except ValidationError as exc:
            screen.show_error(f"Update {tag}", exc)
            return
        screen.comfy_app.start_job(JobKey(JobKind.UPDATE, tag), f"update {tag}", lambda: events)

    def answered(to: str | None) -> None:
        if to is None:  # escape
            return
        where = to or "the newest commit of its branch"
        question = f"Update {tag} to {where}? (b rolls it back)"
        screen.ask_first(tag, "update", question, "Update", lambda: start(to or None))

    screen.app.push_screen(dialog, answered)


def install_ref(screen: VersionsScreen) -> None:
    """`comfy-tui install REF [--name NAME]`: the ref (and a name), then the install dialog."""
    from comfy_tui.ui.dialogs.text_input import TextInputScreen

    dialog = TextInputScreen(
        "Install a branch, tag or commit",
        "REF [NAME]: e.g. `master`, or `1a2b3c4 my-fix` (default name: REF-<commit>)",
        placeholder="master",
        validate=_ref_and_name_problem,
    )

    def answered(text: str | None) -> None:
        if text:
            ref, _, name = text.partition(" ")
            screen.ask_install(ref, ref=True, name=name.strip())

    screen.app.push_screen(dialog, answered)


def _ref_and_name_problem(text: str) -> str | None:
    from comfy_tui.validate import validate_tag

    ref, _, name = text.partition(" ")
    name = name.strip()
    if " " in name:
        return "give a ref and at most one name"
    problem = _ref_problem(ref)
    if problem is None and name:
        try:
            validate_tag(name)
        except ValidationError as exc:
            problem = str(exc)
    return problem


def _ref_problem(text: str) -> str | None:
    from comfy_tui.core.refs import validate_ref

    try:
        validate_ref(text)
    except ValidationError as exc:
        return str(exc)
    return None


async def rollback(screen: VersionsScreen) -> None:
    row = installed_row(screen, "roll back")
    if row is None:
        return
    tag = row.tag
    life = screen.comfy_app.services.lifecycle
    change = await life.last_change(tag)
    if change is None:
        screen.notify(f"Nothing to roll back for {tag}: no update or switch is remembered")
        return
    undo = "its last update" if change.kind == "update" else "its last switch"
    question = f"Roll {tag} back: undo {undo}?"

    def go() -> None:
        screen.comfy_app.start_job(
            JobKey(JobKind.ROLLBACK, tag), f"roll back {tag}", lambda: life.rollback(tag)
        )

    await ask(screen, tag, "roll back", question, "Roll back", go)


async def audit(screen: VersionsScreen) -> None:
    from comfy_tui.services.audit import audit_version, note_lines, table_lines
    from comfy_tui.ui.dialogs.report import ReportScreen

    row = installed_row(screen, "audit")
    if row is None:
        return
    services = screen.comfy_app.services
    screen.notify(f"Reading {row.tag}'s packages…", title="Audit")
    try:
        report = await audit_version(services.settings, services.paths, row.tag)
    except ComfyTuiError as exc:
        screen.show_error(f"Audit {row.tag} failed", exc)
        return
    lines = [*note_lines(report), "", *table_lines(report)]
    await screen.app.push_screen(ReportScreen(f"Packages of {row.tag}", lines))


def share(screen: VersionsScreen, tag: str, name: str) -> None:
    """Share `tag`'s own node `name` at its commit (`nodes adopt NAME TAG`), a NODE_SHARE job."""
    from comfy_tui.services.adopt_nodes import share_node

    snapshots = screen.comfy_app.services.nodes.snapshots
    screen.comfy_app.start_job(
        JobKey(JobKind.NODE_SHARE, name),
        f"share {name}",
        lambda: share_node(snapshots, tag, name),
    )


async def share_own_node(screen: VersionsScreen) -> None:
    """`o`: pick one of the selected version's own git nodes with an https origin, share it."""
    from comfy_tui.services.adopt_nodes import list_own_nodes
    from comfy_tui.ui.dialogs.pick import PickScreen

    row = installed_row(screen, "share a node of")
    if row is None:
        return
    tag = row.tag
    try:
        own = await list_own_nodes(screen.comfy_app.services.paths, tag)
    except ComfyTuiError as exc:
        screen.show_error(f"The nodes of {tag}", exc)
        return
    shareable = [
        n for n in own if n.kind == "git" and n.origin.startswith("https://") and not n.shared
    ]
    if not shareable:
        shared = sum(1 for n in own if n.shared)
        screen.notify(
            f"{tag} has no own node to share ({len(own)} own, {shared} shared already; "
            "only git checkouts with an https origin can be)",
            title="Share a node",
        )
        return
    choices = [(n.name, f"{n.name}  {n.commit[:12]}  {n.origin}") for n in shareable]

    def picked(name: str | None) -> None:
        if name:
            share(screen, tag, name)

    screen.app.push_screen(PickScreen(f"Share a node of {tag} (same commit)", choices), picked)


def estimate(screen: VersionsScreen) -> None:
    """`e`: the selected release's install size from a uv resolution now (`releases
    --estimate`), in the screen's worker; the row shows it."""
    row = screen.selected()
    if row is None or row.installed:
        screen.notify("Select a release that is not installed", severity="warning")
        return
    screen.notify(f"Estimating the size of {row.tag}…", title="Estimate")
    screen.estimate_size(row.tag)
