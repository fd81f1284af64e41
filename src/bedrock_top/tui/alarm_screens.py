"""CloudWatch alarms in the detail screen, and the screen of ready-to-paste
``aws cloudwatch put-metric-alarm`` commands made from a model's alert rules (bedrock-top
itself never calls a write API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import TextArea

from bedrock_top.figures.alarms import Alarm, describe

STATE_STYLES = {"ALARM": "bold red", "INSUFFICIENT_DATA": "dim", "OK": "green"}


@dataclass(frozen=True, slots=True)
class ModelAlarms:
    """What the detail screen shows of a model's alarms."""

    alarms: tuple[Alarm, ...] = ()  # on this model (a ModelId dimension)
    account_wide: tuple[Alarm, ...] = ()  # on a whole Bedrock namespace
    error: str | None = None  # the last read failed (the alarms shown are the last good)
    read: bool = False  # read at least once (else: not yet, or not in this mode)


def alarm_text(found: ModelAlarms) -> Text:
    """One line per alarm, worst first, its state coloured; then the key for commands."""
    text = Text()
    if not found.read and found.error is None:
        return text
    if found.error:
        text.append(f"⚠ alarms: {found.error}\n", style="bold")
    rows = [*found.alarms, *found.account_wide]
    if not rows:
        text.append("CloudWatch alarms: none on this model", style="dim")
    for n, alarm in enumerate(rows):
        scope = "" if n < len(found.alarms) else " (whole namespace)"
        line = describe(alarm)  # "name · STATE · condition — reason": the state coloured
        head = f"{alarm.name} · "
        text.append("alarm ", style="dim")
        if line.startswith(head + alarm.state):
            text.append(head)
            text.append(alarm.state, style=STATE_STYLES.get(alarm.state, ""))
            line = line[len(head) + len(alarm.state) :]
        text.append(f"{line}{scope}")
        if n < len(rows) - 1:
            text.append("\n")
    text.append("\n")
    text.append("c: this model's alert rules as `aws cloudwatch put-metric-alarm` commands", "dim")
    return text


class AlarmCommandsScreen(ModalScreen[None]):
    """The commands, in a read-only text area a person can select and copy from."""

    BINDINGS = [Binding("escape,c,q", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    AlarmCommandsScreen { align: center middle; }
    AlarmCommandsScreen > Vertical { width: 95%; height: 85%; border: round $accent;
        background: $surface; padding: 0 1;
        border-title-style: bold; border-subtitle-color: $foreground-muted; }
    AlarmCommandsScreen TextArea { height: 1fr; }
    """

    def __init__(self, model_id: str, commands: Sequence[str]) -> None:
        super().__init__()
        self.model_id = model_id
        self.commands = list(commands)

    @property
    def text(self) -> str:
        if not self.commands:
            return "# No enabled alert rule judges this model (see bedrock-top --print-config)."
        head = (
            "# bedrock-top's alert rules for this model as CloudWatch alarms, to paste into a\n"
            "# shell with the AWS CLI. bedrock-top never runs them (it only reads).\n\n"
        )
        return head + "\n\n".join(self.commands) + "\n"

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = f"CloudWatch alarms for {self.model_id}"
        box.border_subtitle = "select to copy · Esc closes"
        with box:
            yield TextArea(self.text, read_only=True, soft_wrap=False, show_line_numbers=False)
