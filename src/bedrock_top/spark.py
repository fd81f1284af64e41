"""Text sparklines: a window's per-period series squeezed into a few block characters.

Pure (rich Text only) so the table, exports and tests can use it without Textual.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
NO_DATA = "·"
IN_PROGRESS = "░"  # an incomplete period: drawn as "still arriving", never as a low bar


def resample(values: Sequence[float | None], width: int, how: str = "sum") -> list[float | None]:
    """Squeeze ``values`` into ``width`` buckets (sum for counters, max for latencies).

    Buckets are taken from the newest end so the last character is always the newest
    period, which is what a person reads first.
    """
    n = len(values)
    if n <= width:
        return list(values)
    out: list[float | None] = []
    for i in range(width):
        lo = n - (width - i) * n // width
        hi = n - (width - i - 1) * n // width
        chunk = [v for v in values[lo:hi] if v is not None]
        if not chunk:
            out.append(None)
        elif how == "max":
            out.append(max(chunk))
        else:
            out.append(sum(chunk))
    return out


def sparkline(
    values: Sequence[float | None],
    width: int,
    how: str = "sum",
    partial_tail: int = 0,
    partial_style: str = "dim",
) -> Text:
    """Render a sparkline; the last ``partial_tail`` characters (incomplete periods) are
    drawn as ``IN_PROGRESS`` in ``partial_style`` so a partial minute never reads as a drop.
    The scale comes from the complete periods only."""
    points = resample(values, width, how)
    if partial_tail:
        complete = points[: max(0, len(points) - partial_tail)]
        text = sparkline_text(complete, width - partial_tail)
        text.append(IN_PROGRESS * min(partial_tail, width), style=partial_style)
        return text
    return sparkline_text(points, width)


def sparkline_text(points: Sequence[float | None], width: int) -> Text:
    """Block characters scaled to the largest point, right-aligned in ``width``."""
    present = [v for v in points if v is not None]
    top = max(present) if present else 0.0
    chars: list[str] = []
    for v in points:
        if v is None:
            chars.append(NO_DATA)
        elif top <= 0:
            chars.append(BLOCKS[1])
        else:
            chars.append(BLOCKS[max(1, round(v / top * (len(BLOCKS) - 1)))])
    return Text("".join(chars).rjust(width))
