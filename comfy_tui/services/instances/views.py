"""What a front end shows about an instance: the record plus live readings, and the words
for them (URL, the ssh tunnel a laptop needs, uptime, memory). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from comfy_tui.services.instances.ports import bind_hosts, listens_everywhere
from comfy_tui.store.instance_records import InstanceRecord
from comfy_tui.validate import is_loopback_host


@dataclass(frozen=True)
class InstanceView:
    """One row of `ps` and of the Instances screen."""

    record: InstanceRecord
    url: str
    tunnel: str
    uptime_s: float | None = None
    queue: int | None = None
    cpu_percent: float | None = None
    rss_bytes: int | None = None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def exposed(self) -> bool:
        """Listening on every interface: anyone who can reach the box can use it."""
        return listens_everywhere(self.record.listen)

    def gpu_text(self) -> str:
        if self.record.cpu_only:
            return "cpu"
        return "-" if self.record.gpu is None else str(self.record.gpu)

    def to_json(self) -> dict[str, object]:
        from comfy_tui.services.childenv import mask_env  # only with an instance to show

        r = self.record
        return {
            "id": r.id,
            "version": r.version,
            "state": r.state,
            "port": r.port,
            "listen": r.listen,
            "gpu": r.gpu,
            "gpu_reason": r.gpu_reason or None,
            "cpu_only": r.cpu_only,
            "url": self.url,
            "tunnel": self.tunnel,
            "exposed": self.exposed,
            "pid": r.pid,
            "uptime_s": None if self.uptime_s is None else round(self.uptime_s, 1),
            "queue": self.queue,
            "cpu_percent": self.cpu_percent,
            "rss_bytes": self.rss_bytes,
            "restarts": r.restarts,
            "reboots": r.reboots,
            "auto_restart": r.auto_restart,
            "exit_code": r.exit_code,
            "reason": r.reason,
            "log": r.log_path,
            "started_at": r.started_at,
            "argv": list(r.argv),
            "env": mask_env(r.user_env),  # what the user handed this instance, secrets masked
        }


def display_host(listen: str, hostname: str) -> str:
    first = bind_hosts(listen)[0]
    if listens_everywhere(listen):
        return hostname
    if ":" in first:
        return f"[{first}]"
    return first


def url_for(record: InstanceRecord, hostname: str) -> str:
    return f"http://{display_host(record.listen, hostname)}:{record.port}"


def tunnel_for(record: InstanceRecord, user: str, hostname: str) -> str:
    """The command that makes `http://localhost:PORT` on a laptop reach this instance."""
    first = bind_hosts(record.listen)[0]
    if listens_everywhere(record.listen) or is_loopback_host(first):
        target = "127.0.0.1"
    else:
        target = f"[{first}]" if ":" in first else first
    return f"ssh -L {record.port}:{target}:{record.port} {user}@{hostname}"


def format_percent(p: float | None) -> str:
    return "-" if p is None else f"{p:.0f}%"
