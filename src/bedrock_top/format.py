"""Compact number formatting shared by the table, the TUI and exports."""

from __future__ import annotations


def fmt_count(value: float | None) -> str:
    """1234 -> '1,234'; 12_345_678 -> '12.3M'. Exact below a million."""
    if value is None:
        return "-"
    if abs(value) >= 1_000_000_000:
        return f"{value / 1_000_000_000:.1f}G"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def fmt_ms(value: float | None) -> str:
    """Milliseconds: '842ms', '12.4s'."""
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f}s"
    return f"{value:.0f}ms"


def fmt_pct(value: float | None) -> str:
    """A ratio 0..1 as a percentage: 0.0123 -> '1.2%'."""
    if value is None:
        return "-"
    pct = value * 100
    if pct and pct < 0.1:
        return "<0.1%"
    return f"{pct:.1f}%"


def fmt_usd(value: float | None) -> str:
    """Dollars with the precision a glance needs: '$0.0042', '$3.21', '$1,234'."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    if abs(value) < 1000:
        return f"${value:.2f}"
    return f"${value:,.0f}"
