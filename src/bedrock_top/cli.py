"""Command line: parse and validate, then either print one snapshot (``--once``) or run the
TUI; ``prices`` and ``quotas`` are subcommands.

``--once`` never imports Textual, so scripts start fast.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence

from bedrock_top import settings_file
from bedrock_top.arguments import PROG, build_parser, config_path, load_settings, print_config
from bedrock_top.assemble import (
    make_alarm_keeper,
    make_callers_source,
    make_poller,
    make_quota_keeper,
)
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError
from bedrock_top.figures.callers_spec import spec_of
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.figures.surfaces import CALLERS_VIEW, MODELS_VIEW
from bedrock_top.views.columns import DEFAULT_SORT_ONCE
from bedrock_top.views.rows import select_rows


def visible_rows(snapshot: Snapshot, settings: Settings) -> list[ModelRow]:
    """The rows ``--once`` prints: the live table's filter, then the registry's sort."""
    sort = settings.sort or DEFAULT_SORT_ONCE
    return select_rows(snapshot.rows, pattern=settings.filter, sort=sort, reverse=settings.reverse)


def run_once(settings: Settings) -> int:
    if settings.view != MODELS_VIEW:
        return run_once_view(settings)
    from bedrock_top.output.render import render_csv, render_json, render_table

    poller = make_poller(settings)
    try:
        # The limits first: they decide which quota series the poll asks for.
        keeper = make_quota_keeper(settings, tuple(poller.regions), poller.clients())
        keeper.update(poller)
        snapshot = poller.poll()
    finally:
        poller.close()
    for region, state in keeper.states.items():  # the figures go on without quotas
        if state.error:
            sys.stderr.write(f"{PROG}: warning: {region}: {state.error}\n")
    rows = visible_rows(snapshot, settings)
    if settings.format == "json":
        alerts = _active_alerts(snapshot, settings)
        text = render_json(snapshot, rows, settings.api_usd_per_1000, alerts)
    elif settings.format == "csv":
        text = render_csv(snapshot, rows)
    else:
        text = render_table(snapshot, rows, _table_width(), settings.sort or DEFAULT_SORT_ONCE)
    sys.stdout.write(text)
    sys.stdout.flush()  # a closed pipe shows up here, inside main, not at interpreter exit
    return 0


def _active_alerts(snapshot: Snapshot, settings: Settings) -> list[dict[str, object]]:
    """The alerts active at the snapshot's newest complete minute, as if the rules had
    watched its last minutes (``alert_figures.replay``)."""
    from bedrock_top.output.alert_json import active_records
    from bedrock_top.views.alert_figures import replay

    spikes = settings.spike_rules
    book = replay(
        snapshot, settings.alert_rules, min_requests=spikes.min_requests, spike_rules=spikes
    )
    return active_records(book.active())


def run_once_view(settings: Settings) -> int:
    """``--once --view NAME``: one poll of that view alone (no quotas: they are the models')."""
    from bedrock_top.figures.surface_rows import SurfaceView
    from bedrock_top.output.render_views import (
        render_view_csv,
        render_view_json,
        render_view_table,
    )
    from bedrock_top.views.surface_columns import columns_of, sort_default

    if settings.view == CALLERS_VIEW and settings.end is not None:
        raise ConfigError(
            "--end: the callers view reads the invocation logs of the live window only"
        )
    spec = spec_of(settings.view, settings.group_by)
    poller = make_poller(settings)
    if settings.view == CALLERS_VIEW:
        poller.set_views(())  # the logs alone: no metric is read
    try:
        if spec.quotas:  # Mantle's own quotas: read first, like the models'
            keeper = make_quota_keeper(settings, tuple(poller.regions), poller.clients())
            keeper.update(poller)
            for region, state in keeper.states.items():
                if state.error:
                    sys.stderr.write(f"{PROG}: warning: {region}: {state.error}\n")
        snapshot = poller.poll()
    finally:
        poller.close()
    view = snapshot.surfaces.get(settings.view) or SurfaceView(spec)
    if settings.view == CALLERS_VIEW:  # the backfill alone (Live Tail is for the live view)
        source = make_callers_source(settings, snapshot.regions[0])
        source.open(live=False)
        view = source.view(snapshot.taken_at)
        if source.error:
            raise RuntimeError(source.error)
    sort = settings.sort or sort_default(settings.view, once=True)
    rows = select_rows(
        view.rows,
        pattern=settings.filter,
        sort=sort,
        reverse=settings.reverse,
        columns=columns_of(settings.view),
    )
    if settings.format == "json":
        text = render_view_json(snapshot, view, rows, settings.api_usd_per_1000)
    elif settings.format == "csv":
        text = render_view_csv(view, rows)
    else:
        text = render_view_table(snapshot, view, rows, _table_width(), sort)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def _table_width() -> int | None:
    """The terminal's width; None for a pipe or file, which gets every column (like `ps`)."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def _check_once_only(args: argparse.Namespace) -> None:
    """A --format flag that nothing would use is a usage error (the TUI would ignore it).

    Only the flag: a format from the config file or BEDROCK_TOP_FORMAT applies to --once
    runs and is no error for the TUI.
    """
    if args.format is not None and not args.once and not args.print_config:
        raise ConfigError("--format: only used with --once (add --once, or drop --format)")


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush of
    what is still buffered does not fail again ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (redirected in-process): nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def write_config(args: argparse.Namespace) -> int:
    """--write-config: the commented defaults, at --config PATH or the default path."""
    path = config_path(args) or settings_file.default_path()
    try:
        settings_file.write_default(path, force=args.force)
    except OSError as exc:
        sys.stderr.write(f"{PROG}: cannot write {path}: {exc.strerror or exc}\n")
        return 1
    sys.stdout.write(f"wrote {path}\n")
    return 0


def run_tui(settings: Settings) -> int:
    """The live monitor: the poller and quota sources are built here and handed to the app."""
    from bedrock_top.logs import setup_file_logging
    from bedrock_top.tui.app import run_app

    setup_file_logging()
    poller = make_poller(settings)
    try:
        regions = tuple(poller.regions)
        return run_app(
            settings,
            poller,
            make_quota_keeper(settings, regions, poller.clients()),
            # The callers view reads the first region's invocation logs.
            make_callers_source(settings, regions[0]),
            make_alarm_keeper(poller),
        )
    finally:
        poller.close()


def main(argv: Sequence[str] | None = None) -> int:
    settings: Settings | None = None
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["prices"]:
            from bedrock_top.prices_cli import run_prices

            return run_prices(args[1:])
        if args[:1] == ["quotas"]:
            from bedrock_top.quotas_cli import run_quotas

            return run_quotas(args[1:])
        if args[:1] == ["watch"]:
            from bedrock_top.watch_cli import run_watch

            return run_watch(args[1:])
        parsed = build_parser().parse_args(args)
        if parsed.write_config:
            return write_config(parsed)
        _check_once_only(parsed)
        settings, values = load_settings(parsed)
        if parsed.print_config:
            return print_config(parsed, settings, values)
        if settings.period_note:  # a past window shown with a coarser period than asked
            sys.stderr.write(f"{PROG}: note: {settings.period_note}\n")
        if settings.once:
            return run_once(settings)
        return run_tui(settings)
    except ConfigError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`| head -1`): nothing left to say
        _silence_stdout()
        return 0
    except Exception as exc:  # a run-time failure: one plain line, never a traceback
        from bedrock_top.errors import describe_error

        sys.stderr.write(f"{PROG}: {describe_error(exc, settings.profile if settings else None)}\n")
        return 1
