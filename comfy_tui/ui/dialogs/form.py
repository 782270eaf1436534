"""`FormDialog`: a modal form that builds a request from its fields and dismisses with it.

A subclass sets `PREFIX` (its widgets `#PREFIX-go` and `#PREFIX-error`) and writes
`build_request`, which raises `ValidationError` for bad input: the message shows in the error
label and the dialog stays open; a `FieldError` puts the message right under its field (the
text typed stays). Enter in a field or the go button submits; another button or
escape (the subclass's `cancel` binding) dismisses with ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Mount
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label

from comfy_tui.errors import ValidationError

T = TypeVar("T")
R = TypeVar("R")


class FieldError(ValidationError):
    """Bad input in one field (`field`: its widget id): shown under that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def in_field(field: str, check: Callable[[], R]) -> R:
    """`check()`, its ValidationError raised as a `FieldError` of `field`."""
    try:
        return check()
    except FieldError:
        raise
    except ValidationError as exc:
        raise FieldError(field, str(exc)) from None


class FormDialog(ModalScreen[T | None], Generic[T]):
    """A form whose answer is a request of type ``T`` (or ``None``, cancelled)."""

    PREFIX: ClassVar[str]

    def build_request(self) -> T:
        """The request the fields describe; raises `ValidationError` for bad input."""
        raise NotImplementedError

    def form_end(self, go: str) -> ComposeResult:
        """The hidden error label and the go/Cancel buttons that end the form."""
        yield Label("", id=f"{self.PREFIX}-error", markup=False)
        with Horizontal(id=f"{self.PREFIX}-buttons"):
            yield Button(go, id=f"{self.PREFIX}-go", variant="primary", compact=True)
            yield Button("Cancel", id=f"{self.PREFIX}-no", compact=True)

    @on(Mount)
    def _hide_error(self) -> None:
        self.query_one(f"#{self.PREFIX}-error", Label).display = False

    def submit(self) -> None:
        try:
            request = self.build_request()
        except ValidationError as exc:
            error = self.query_one(f"#{self.PREFIX}-error", Label)
            error.update(str(exc))
            error.display = True
            self._place_error(error, exc.field if isinstance(exc, FieldError) else None)
            return
        self.dismiss(request)

    def _place_error(self, error: Label, field: str | None) -> None:
        """Under the field's row (or the field) when there is one, else above the buttons."""
        box = error.parent
        if not isinstance(box, Widget):
            return
        anchor: Widget = self.query_one(f"#{self.PREFIX}-buttons")
        after = False
        if field is not None:
            widget: Widget | None = self.query_one(f"#{field}")
            while widget is not None and widget.parent is not box:
                widget = widget.parent if isinstance(widget.parent, Widget) else None
            if widget is not None:
                anchor, after = widget, True
        if after:
            box.move_child(error, after=anchor)
        else:
            box.move_child(error, before=anchor)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-go":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
