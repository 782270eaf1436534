"""The detail pane of the Models screen: what the header says, the hash, who sees the file.

Only paths inside the library are shown (never absolute paths or times), so the pane renders
the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from comfy_tui.core.units import format_bytes, format_count
from comfy_tui.store.civitai_index import CivitaiInfo
from comfy_tui.store.models_index import ModelRecord

__all__ = ["ModelDetail", "describe", "what_label"]

_SHOWN_METADATA = 4


def what_label(m: ModelRecord) -> str:
    """The architecture column: `SDXL lora`, `pickle`, `unreadable`, or the format."""
    if m.status != "ok":
        return m.status
    return " ".join(p for p in (m.architecture, m.kind) if p) or m.format


def describe(
    m: ModelRecord, root_label: str, versions: Sequence[str], civitai: CivitaiInfo | None = None
) -> Text:
    """One fact per line; lines are cut (not wrapped) to the pane's width."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(m.relpath, style="bold")
    text.append(f"  in {root_label}\n", style="dim")
    text.append(" · ".join(dict.fromkeys([what_label(m), m.format, format_bytes(m.size)])) + "\n")
    shape = []
    if m.tensors is not None:
        shape.append(f"{m.tensors} tensors")
    if m.parameters is not None:
        shape.append(f"{format_count(m.parameters)} parameters")
    if m.dtypes:
        shape.append("/".join(m.dtypes))
    if shape:
        text.append(" · ".join(shape) + "\n")
    if m.sha256:
        text.append(f"sha256 {m.sha256}\n")
    else:
        text.append("sha256 not computed yet — press h to hash it\n", style="dim")
    if civitai is not None and civitai.found:
        title = " — ".join(p for p in (civitai.model_name, civitai.version_name) if p)
        text.append(" · ".join(p for p in (f"civitai: {title}", civitai.base_model) if p) + "\n")
        if civitai.trained_words:
            text.append(f"triggers: {', '.join(civitai.trained_words)}\n")
    if m.status == "pickle":
        text.append(f"⚠ {m.problem}\n", style="bold yellow")
    elif m.problem:
        text.append(f"✗ unreadable: {m.problem}\n", style="bold red")
    if m.metadata:
        items = [f"{k}={v}" for k, v in sorted(m.metadata.items())[:_SHOWN_METADATA]]
        more = len(m.metadata) - _SHOWN_METADATA
        line = ", ".join(i if len(i) <= 48 else i[:47] + "…" for i in items)
        text.append(f"metadata: {line}{f' (+{more} more)' if more > 0 else ''}\n", style="dim")
    seen = ", ".join(versions) if versions else "no version installed yet"
    text.append(f"seen by: {seen}", style="dim")
    return text


class ModelDetail(Static):
    """Shows one model; `show(None)` says that nothing is selected."""

    def show(
        self,
        model: ModelRecord | None,
        root_label: str,
        versions: Sequence[str],
        civitai: CivitaiInfo | None = None,
    ) -> None:
        if model is None:
            self.update(Text("Select a model to see its details.", style="dim"))
        else:
            self.update(describe(model, root_label, versions, civitai))
