"""Whether output is coloured: one decision for every command, stream and library.

Colour (ANSI escape codes: colours, bold) is on for a stream when, in this order:

1. ``reconcile --no-color`` is not given (it turns colour off everywhere);
2. ``NO_COLOR`` is unset or empty (https://no-color.org: set and non-empty, whatever
   its value, means no colour);
3. ``FORCE_COLOR`` is set and non-empty (https://force-color.org): colour even when
   the stream is not a terminal, as in a CI log that renders it;
4. otherwise, when the stream is a terminal.

A refusal (``--no-color``, ``NO_COLOR``) always wins over ``FORCE_COLOR``. "Off"
means no escape code at all, bold included, so that a log or a screen reader
gets plain text.

The root command records the decision in click's context (``ctx.color``), which
every ``click.echo`` honours; :func:`secho`, :func:`echo` and :func:`console`
apply it to text coloured here and to rich's consoles.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # rich is imported by the commands that print through it, not by --help
    from rich.console import Console


def environment_choice() -> bool | None:
    """What the environment says: False for ``NO_COLOR``, True for ``FORCE_COLOR``,
    None when it leaves it to the terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


def _stream(err: bool) -> IO[Any]:
    return sys.stderr if err else sys.stdout


def _is_terminal(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def color_enabled(*, err: bool = False) -> bool:
    """Whether text written to standard output (or error, ``err``) may be coloured."""
    ctx = click.get_current_context(silent=True)
    chosen = ctx.color if ctx is not None else None
    if chosen is None:
        chosen = environment_choice()
    if chosen is None:
        chosen = _is_terminal(_stream(err))
    return chosen


def style(text: str, *, err: bool = False, **styles: Any) -> str:
    """``text`` with click's ``styles`` (fg, bold…) when colour is on for that stream."""
    return click.style(text, **styles) if styles and color_enabled(err=err) else text


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Write text that may hold colour (a plan rendered with colour on) as decided."""
    click.echo(text, err=err, nl=nl, color=color_enabled(err=err))


def secho(text: str = "", *, err: bool = False, nl: bool = True, **styles: Any) -> None:
    """Write ``text`` in ``styles`` when colour is on for that stream, plain otherwise."""
    echo(style(text, err=err, **styles), err=err, nl=nl)


def console(*, stderr: bool = False) -> Console:
    """A rich console for standard output (or error) that colours only as decided here.

    Without colour it writes no escape code at all (rich's own ``no_color`` keeps
    bold); whether it counts as a terminal (a live progress bar) stays the
    stream's own business.
    """
    from rich.console import Console

    on = color_enabled(err=stderr)
    forced = on and not _is_terminal(_stream(stderr))
    return Console(
        stderr=stderr,
        color_system="auto" if on else None,
        force_terminal=True if forced else None,
    )
