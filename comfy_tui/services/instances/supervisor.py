"""The detached supervisor: one small process per instance that runs ComfyUI and outlives us.

Started by the launcher as `python -m comfy_tui.services.instances.supervisor DATA_DIR ID` in
a new session (it leads the instance's process group), with stdin from /dev/null and
stdout/stderr appended to the instance's log, which ComfyUI inherits. It:

- starts ComfyUI from the run record and writes its pid and create time there;
- relaunches it when ComfyUI-Manager's Restart leaves the `<session>.reboot` marker;
- with auto-restart on, relaunches after an unexpected exit, at most `MAX_RESTARTS` times in
  `RESTART_WINDOW_S`, then gives up and records why;
- rotates the log by size while ComfyUI runs (copy-truncate, `logrotate.py`), keeping N;
- on SIGINT (sent to the whole group by `stop`) lets ComfyUI shut down cleanly and records
  the exit; SIGTERM is turned into a SIGINT for ComfyUI; SIGHUP is ignored.

Only the standard library, psutil and our store are imported, so it starts fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.command import REBOOT_SUFFIX, SESSION_ENV
from comfy_tui.services.instances.identity import create_time
from comfy_tui.services.instances.logrotate import Rotator
from comfy_tui.services.instances.reasons import exit_reason
from comfy_tui.store.instance_records import InstanceRecord, load_instance, update_instance

LOG_KEEP = 3
MAX_RESTARTS = 3
RESTART_WINDOW_S = 300.0
REBOOT_PAUSE_S = 0.5


def say(text: str) -> None:
    """A line of our own in the instance log (it is our stderr)."""
    sys.stderr.write(f"[comfy-tui] {text}\n")
    sys.stderr.flush()


class Supervisor:
    def __init__(
        self,
        paths: DataPaths,
        instance_id: str,
        log_max_bytes: int = 0,
        log_keep: int = LOG_KEEP,
    ) -> None:
        self.paths = paths
        self.id = instance_id
        self.log_max_bytes = log_max_bytes
        self.log_keep = log_keep
        self.stop_asked = False
        self.child: subprocess.Popen[bytes] | None = None

    # --- signals -------------------------------------------------------------------
    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True  # ComfyUI got the same SIGINT: the group was signalled

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGINT)  # ComfyUI dies at once on SIGTERM; ask nicely

    def install_signals(self) -> None:
        signal.signal(signal.SIGINT, self._on_sigint)
        signal.signal(signal.SIGTERM, self._on_sigterm)
        signal.signal(signal.SIGHUP, lambda s, f: None)  # a handler, not SIG_IGN: not inherited

    # --- record helpers ------------------------------------------------------------
    def record(self) -> InstanceRecord | None:
        return load_instance(self.paths, self.id)

    def stopping(self, record: InstanceRecord | None) -> bool:
        return self.stop_asked or record is None or record.stop_requested

    def finish(self, state: str, code: int | None, reason: str) -> None:
        now = time.time()

        def done(r: InstanceRecord) -> InstanceRecord:
            return r.evolve(state=state, exit_code=code, reason=reason, ended_at=now)

        update_instance(self.paths, self.id, done)
        say(f"{self.id}: {state}" + (f" ({reason})" if reason else ""))

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop_asked and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- the loop ------------------------------------------------------------------
    def spawn(self, record: InstanceRecord) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            list(record.argv),
            cwd=record.cwd,
            env=dict(os.environ),  # built for ComfyUI by spawn_supervisor (child_environ)
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        self.child = child
        if self.stop_asked:  # a stop arrived while we were starting it
            child.send_signal(signal.SIGINT)
        created = create_time(child.pid) or time.time()
        me = os.getpid()
        mine = create_time(me)

        def started(r: InstanceRecord) -> InstanceRecord:
            state = "stopping" if r.state == "stopping" else "starting"
            return r.evolve(
                pid=child.pid,
                create_time=created,
                pgid=os.getpgid(0),
                supervisor_pid=me,
                supervisor_create_time=mine,
                child_started_at=time.time(),
                state=state,
            )

        update_instance(self.paths, self.id, started)
        return child

    def run(self) -> int:
        record = self.record()
        rotator = None
        if record is not None:
            rotator = Rotator(Path(record.log_path), self.log_max_bytes, self.log_keep)
            rotator.start()
        try:
            return self._loop()
        finally:
            if rotator is not None:
                rotator.stop()

    def _loop(self) -> int:
        self.install_signals()
        session = os.environ.get(SESSION_ENV)
        marker = Path(session + REBOOT_SUFFIX) if session else None
        last_code: int | None = None
        while True:
            record = self.record()
            if record is None:
                say(f"{self.id}: run record is gone; not starting ComfyUI")
                return 1
            if self.stopping(record):
                self.finish("exited", last_code, "stopped")
                return 0
            log = Path(record.log_path)
            offset = log.stat().st_size if log.exists() else 0
            if marker is not None:
                marker.unlink(missing_ok=True)
            try:
                child = self.spawn(record)
            except OSError as exc:
                self.finish("crashed", None, f"cannot start ComfyUI: {exc.strerror or exc}")
                return 1
            last_code = code = child.wait()
            self.child = None
            reason = exit_reason(log, offset, code, record.port)
            record = self.record()
            if self.stopping(record):
                self.finish("exited", code, "stopped")
                return 0
            assert record is not None
            if marker is not None and marker.exists():
                marker.unlink(missing_ok=True)
                say(f"{self.id}: ComfyUI-Manager asked for a restart; starting ComfyUI again")
                update_instance(self.paths, self.id, lambda r: r.evolve(reboots=r.reboots + 1))
                self._sleep(REBOOT_PAUSE_S)
                continue
            if record.auto_restart:
                recent = [t for t in record.restart_times if time.time() - t < RESTART_WINDOW_S]
                if len(recent) < MAX_RESTARTS:
                    self.note_restart(recent, reason, code)
                    self._sleep(min(0.5 * 2.0 ** len(recent), 5.0))
                    continue
                reason = (
                    f"{reason}; auto-restart gave up after {MAX_RESTARTS} restarts "
                    f"in {RESTART_WINDOW_S / 60:g} minutes"
                )
            self.finish("exited" if code == 0 else "crashed", code, reason)
            return 0

    def note_restart(self, recent: list[float], reason: str, code: int) -> None:
        say(f"{self.id}: ComfyUI {reason}; restarting ({len(recent) + 1}/{MAX_RESTARTS})")
        now = time.time()

        def restarted(r: InstanceRecord) -> InstanceRecord:
            return r.evolve(
                state="starting",
                restarts=r.restarts + 1,
                restart_times=(*recent, now),
                exit_code=code,
                reason=f"restarted after: {reason}",
            )

        update_instance(self.paths, self.id, restarted)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 4):
        sys.stderr.write(
            "usage: python -m comfy_tui.services.instances.supervisor DATA_DIR ID "
            "[LOG_MAX_BYTES LOG_KEEP]\n"
        )
        return 2
    limits = (int(args[2]), int(args[3])) if len(args) == 4 else (0, LOG_KEEP)
    return Supervisor(DataPaths(Path(args[0])), args[1], *limits).run()


if __name__ == "__main__":
    sys.exit(main())
