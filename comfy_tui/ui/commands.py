"""The command palette provider: every action of every screen, findable by name, and commands
for what exists now ("Launch v0.3.77", "Stop c1 :8188"). A command of another screen goes
there first, then acts, as its key would."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from comfy_tui.ui.keys import GLOBAL_KEYS, Key

if TYPE_CHECKING:
    from comfy_tui.ui.app import ComfyTuiApp


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    run: Callable[[], Awaitable[None]]


def key_title(key: Key) -> str:
    return f"{key.description}: {key.help}" if key.description not in key.help else key.help


def mode_classes(app: ComfyTuiApp) -> dict[str, type[Screen[Any]]]:
    """The screen class of every mode (a lazily loaded one is imported here)."""
    from comfy_tui.ui.modes import LATER_SCREENS
    from comfy_tui.ui.screens.versions import VersionsScreen

    classes: dict[str, type[Screen[Any]]] = {"versions": VersionsScreen}
    for mode, target in LATER_SCREENS.items():
        module, name = target.split(":")
        classes[mode] = getattr(importlib.import_module(module), name)
    return classes


class ComfyCommands(Provider):
    """Global actions, every screen's actions, and launch / stop / log commands for the
    installed versions and live instances."""

    @property
    def comfy_app(self) -> ComfyTuiApp:
        from comfy_tui.ui.app import ComfyTuiApp

        app = self.app
        assert isinstance(app, ComfyTuiApp)
        return app

    async def startup(self) -> None:
        self.commands = [
            *self._key_commands(),
            *self._system_commands(),
            *await self._object_commands(),
        ]

    def _system_commands(self) -> list[Command]:
        """The CLI's whole-program commands: `config` and `autostart`."""
        from comfy_tui.ui import system_reports

        app = self.comfy_app

        async def settings() -> None:
            await system_reports.show_settings(app)

        def autostart(action: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                await system_reports.show_autostart(app, action)

            return run

        doing = {
            "status": "is `comfy-tui up` run at boot? (comfy-tui autostart status)",
            "enable": "run `comfy-tui up` at boot: a systemd user unit, or the crontab line",
            "disable": "stop running `comfy-tui up` at boot",
        }
        return [
            Command(
                "Settings: the effective settings, tokens masked (comfy-tui config)",
                "The settings file's path, every setting and the network the downloads use",
                settings,
            ),
            *(
                Command(f"Autostart {action}: {doing[action]}", doing[action], autostart(action))
                for action in system_reports.AUTOSTART_ACTIONS
            ),
        ]

    def _key_commands(self) -> list[Command]:
        app = self.comfy_app
        found = [
            Command(key_title(key), key.help, self._run(app, key.action))
            for key in GLOBAL_KEYS
            if key.id not in ("quit-now", "interrupt", "help-anywhere")
        ]
        classes = mode_classes(app)
        if type(self.screen) not in classes.values():  # a pushed screen (a log view)
            for key in getattr(self.screen, "KEYS", ()):
                found.append(Command(key_title(key), key.help, self._run(self.screen, key.action)))
        for mode, screen in classes.items():
            title = getattr(screen, "MODE_TITLE", mode)
            for key in getattr(screen, "KEYS", ()):
                found.append(
                    Command(f"{title}: {key_title(key)}", key.help, self._on(mode, key.action))
                )
        return found

    @staticmethod
    def _run(target: App[Any] | Screen[Any], action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await target.run_action(action)

        return run

    def _on(self, mode: str, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            app = self.comfy_app
            await app.switch_mode(mode)
            await app.screen.run_action(action)

        return run

    async def _object_commands(self) -> list[Command]:
        from comfy_tui.store.version_records import list_records

        services = self.comfy_app.services
        versions = await asyncio.to_thread(list_records, services.paths)
        # what the instances service saw last (it looks every second while the Instances
        # screen shows, and at start); asked now only when it has not looked yet
        views = services.instances.last_views or await services.instances.refresh()
        instances = [v.record for v in views]
        found = [
            Command(
                f"Launch {v.tag}",
                f"Launch ComfyUI {v.tag} (the launch dialog, this version chosen)",
                self._on("instances", f"launch({v.tag!r})"),
            )
            for v in versions
        ]
        live_of: dict[str, int] = {}
        for r in instances:
            if r.live:
                live_of[r.version] = live_of.get(r.version, 0) + 1
        found += [
            Command(
                f"Stop every instance of {tag}",
                f"Stop the {n} live instance(s) of ComfyUI {tag} (asks first)",
                self._on("instances", f"stop_version({tag!r})"),
            )
            for tag, n in live_of.items()
        ]
        for r in instances:
            if not r.live:
                continue
            where = f"{r.id} :{r.port}"
            found += [
                Command(
                    f"Stop {where}",
                    f"Stop ComfyUI {r.version} on port {r.port} (asks first)",
                    self._on("instances", f"stop({r.id!r})"),
                ),
                Command(
                    f"Log of {where}",
                    f"Open the log of ComfyUI {r.version} on port {r.port}",
                    self._on("instances", f"open_log({r.id!r})"),
                ),
            ]
        return found

    async def discover(self) -> Hits:
        for command in self.commands:
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands:
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)
