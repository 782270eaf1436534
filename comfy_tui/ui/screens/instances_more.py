"""The Instances screen's keys beyond launch/stop/restart/log, so the CLI's instance commands
all have a key: `f` free (`comfy-tui free`), `w` run a workflow (`run`), `O` copy a prompt's
outputs (`outputs`), `X` stop all (`stop --all`), `u` up (`up`).

`InstancesScreen`'s `action_*` methods call these functions with the screen; each works on the
selected instance through the same services and functions the CLI's handlers call. What awaits
a service after a dialog runs in the screen's `@work` methods (`queue_workflow`,
`copy_outputs`), a job with progress through the App's runner (`start_job`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.keys import Key

KEEP_WANTED = "Keep wanted: `u` starts it again (--keep-wanted)"
"""The stop questions' option (`stop --keep-wanted`), offered when a wanted instance stops."""

if TYPE_CHECKING:
    from comfy_tui.services.instances.views import InstanceView
    from comfy_tui.ui.screens.instances import InstancesScreen

MORE_KEYS: tuple[Key, ...] = (
    Key("instances-free", "f", "free", "Free", "Ask the selected instance to unload its models "
        "and free memory (comfy-tui free)", show=False),
    Key("instances-run", "w", "run_workflow", "Run", "Queue an API-format workflow file on the "
        "selected instance (comfy-tui run)", show=False),
    Key("instances-outputs", "O", "outputs", "Outputs", "Copy a prompt's output files into a "
        "folder (default: the last finished prompt; comfy-tui outputs)", show=False),
    Key("instances-stop-all", "X", "stop_all", "Stop all", "Stop every running instance (asks "
        "first; comfy-tui stop --all)", show=False),
    Key("instances-up", "u", "up", "Up", "Start every instance you want up that is not running, "
        "on its own port (comfy-tui up)", show=False),
)  # fmt: skip


def _workflow_problem(text: str) -> str | None:
    path = Path(text).expanduser()
    return None if path.is_file() else f"no file at {path}"


def live_selected(screen: InstancesScreen, what: str) -> InstanceView | None:
    view = screen.selected()
    if view is None or not view.record.live:
        state = f" ({view.id} is {view.state})" if view else ""
        screen.notify(f"Select a running instance to {what}{state}", severity="warning")
        return None
    return view


async def free(screen: InstancesScreen) -> None:
    from comfy_tui.services.instances.health import base_url
    from comfy_tui.services.jobs.api import free_memory

    view = live_selected(screen, "free its memory")
    if view is None:
        return
    try:
        await free_memory(base_url(view.record))
    except ComfyTuiError as exc:
        screen.show_error(f"Free {view.id} failed", exc)
        return
    screen.notify(f"Asked {view.id} to unload its models and free memory", title="Free")


def run_workflow(screen: InstancesScreen) -> None:
    view = live_selected(screen, "run a workflow on")
    if view is None:
        return
    dialog = TextInputScreen(
        f"Run a workflow on {view.id} (:{view.record.port})",
        "An API-format workflow file (ComfyUI: Export (API))",
        placeholder="~/workflows/portrait_api.json",
        validate=_workflow_problem,
    )

    def answered(text: str | None) -> None:
        if text:
            screen.queue_workflow(view, Path(text).expanduser())

    screen.app.push_screen(dialog, answered)


async def queue_workflow(screen: InstancesScreen, view: InstanceView, path: Path) -> None:
    """`w`'s answer (`comfy-tui run`), in the screen's worker `queue_workflow`."""
    from comfy_tui import aio
    from comfy_tui.services.instances.health import base_url
    from comfy_tui.services.jobs.api import load_workflow, queue_prompt

    try:
        workflow = await aio.to_thread(load_workflow, path)
        prompt_id, _ = await queue_prompt(base_url(view.record), workflow)
    except ComfyTuiError as exc:
        screen.show_error(f"Run {path.name} on {view.id} failed", exc)
        return
    screen.comfy_app.services.jobs.expect(view.id, prompt_id, workflow)
    screen.notify(f"Queued {prompt_id} on {view.id}: the Job column follows it", title="Run")


def outputs(screen: InstancesScreen) -> None:
    view = live_selected(screen, "copy outputs from")
    if view is None:
        return
    job = screen.job_of(view)
    last = job.last.prompt_id if job is not None and job.last is not None else ""
    dialog = TextInputScreen(
        f"Copy outputs from {view.id}",
        f"[PROMPT_ID] FOLDER (the prompt: {last or 'none finished yet, give one'})",
        placeholder="~/renders",
        validate=lambda text: _outputs_problem(text, last),
    )

    def answered(text: str | None) -> None:
        if text:
            prompt_id, folder = _outputs_request(text, last)
            screen.copy_outputs(view, prompt_id, folder)

    screen.app.push_screen(dialog, answered)


async def copy_outputs(
    screen: InstancesScreen, view: InstanceView, prompt_id: str, to: Path
) -> None:
    """`O`'s answer (`comfy-tui outputs`), in the screen's worker `copy_outputs`."""
    from comfy_tui.services.instances.health import base_url
    from comfy_tui.services.jobs.api import copy_outputs

    try:
        written = await copy_outputs(base_url(view.record), prompt_id, to)
    except ComfyTuiError as exc:
        screen.show_error(f"Copy the outputs of {prompt_id} failed", exc)
        return
    screen.notify(f"{len(written)} file(s) of {prompt_id} copied into {to}", title="Outputs")


async def stop_all(screen: InstancesScreen, version: str | None = None) -> None:
    """Stop every live instance (of `version`), after one question."""
    if not screen.views:
        screen.show(await screen.instances.refresh())
    live = [v for v in screen.views if v.record.live and version in (None, v.record.version)]
    if not live:
        screen.notify(f"No instance{' of ' + version if version else ''} is running.")
        return
    ports = ", ".join(f":{v.record.port}" for v in live)
    whose = f" of {version}" if version else ""
    question = f"Stop all {len(live)} running instance(s){whose} ({ports})?"
    wanted = any(v.record.wanted for v in live)
    dialog = ConfirmScreen(
        question, yes="Stop all", no="Keep", option=KEEP_WANTED if wanted else None
    )

    def answered(yes: bool | None) -> None:
        keep = dialog.option_checked
        for view in live if yes else ():
            screen.comfy_app.start_job(
                JobKey(JobKind.STOP, view.id),
                f"stop {view.id}",
                _stopper(screen, view.id, keep),
            )

    screen.app.push_screen(dialog, answered)


def _stopper(
    screen: InstancesScreen, view_id: str, keep_wanted: bool
) -> Callable[[], AsyncIterator[Event]]:
    return lambda: screen.stop_events(view_id, keep_wanted=keep_wanted)


def up(screen: InstancesScreen) -> None:
    screen.comfy_app.start_job(JobKey(JobKind.LAUNCH, "up"), "up", lambda: _up_events(screen))


async def _up_events(screen: InstancesScreen) -> AsyncIterator[Event]:
    from comfy_tui.services.instances.up import bring_up

    yield LogLine("starting every wanted instance that is down", source="up")
    results = await bring_up(screen.instances)
    for r in results:
        word = "started" if r.ok else "FAILED"
        yield LogLine(f"{word} {r.id} :{r.port}: {r.detail}", source="up")
    failed = [r.id for r in results if not r.ok]
    if failed:
        raise ComfyTuiError(f"{len(failed)} of {len(results)} did not come up: "
                            f"{', '.join(failed)}")  # fmt: skip
    yield Finished(
        f"up: started {len(results)} instance(s)" if results
        else "up: every instance you want up is running"
    )  # fmt: skip


def _outputs_request(text: str, last: str) -> tuple[str, Path]:
    words = text.split(maxsplit=1)
    if len(words) == 2 and not words[0].startswith(("/", "~", ".")):
        return words[0], Path(words[1]).expanduser()
    return last, Path(text).expanduser()


def _outputs_problem(text: str, last: str) -> str | None:
    prompt_id, _ = _outputs_request(text, last)
    return None if prompt_id else "no prompt has finished here yet: type PROMPT_ID FOLDER"
