"""The plan as text, as Terraform shows one: ``+`` create, ``~`` update, ``-`` remove.

Unchanged lines of an updated invoice are hidden (``# (2 unchanged lines
hidden)``) where they are, so a reviewer sees where the changes sit. Colours
only when asked (the CLI asks on a terminal).
"""

from __future__ import annotations

import json

import click

from reconciler.plan.document import CREATE_INVOICE, UPDATE_ITEM_COST, Document
from reconciler.plan.render.view import (
    NO_CHANGES,
    NO_CHANGES_DETAIL,
    headline,
    local_time,
    mark_label,
    money,
    plural,
    summary_sentence,
    verb,
)

_COLOURS = {"+": "green", "~": "yellow", "-": "red"}
_LEVEL_TITLES = (
    ("error", "Errors", "red"),
    ("warning", "Warnings", "yellow"),
    ("info", "Notes", None),
)


class _Writer:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        if not self.color or (fg is None and not bold):
            return text
        return click.style(text, fg=fg, bold=bold)

    def sign(self, sign: str) -> str:
        return self.style(sign, _COLOURS.get(sign), bold=True)

    def add(self, text: str = "") -> None:
        self.lines.append(text)


class _Number(str):
    """A decimal kept as text in the document, shown unquoted as Terraform shows numbers."""


def _quote(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, _Number):
        return str(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _number(value: str | None) -> _Number | None:
    return None if value is None else _Number(value)


def _attributes(out: _Writer, indent: str, sign: str, pairs: list[tuple[str, object]]) -> None:
    width = max((len(name) for name, _ in pairs), default=0)
    mark = out.sign(sign) if sign.strip() else sign
    for name, value in pairs:
        out.add(f"{indent}{mark} {name.ljust(width)} = {_quote(value)}")


def _line_pairs(line: Document) -> list[tuple[str, object]]:
    item = line.get("item") or {}
    pairs: list[tuple[str, object]] = [("item", item.get("full_name") or item.get("list_id"))]
    pairs += [
        ("description", line.get("description")),
        ("quantity", _number(line.get("quantity"))),
    ]
    if line.get("service_date") is not None:
        pairs.append(("service_date", line["service_date"]))
    return pairs


def _block(
    out: _Writer, indent: str, sign: str, title: str, pairs: list[tuple[str, object]]
) -> None:
    out.add(f"{indent}{out.sign(sign)} {title} {{")
    _attributes(out, indent + "    ", sign, pairs)
    out.add(f"{indent}  }}")


def _hidden(out: _Writer, indent: str, count: int) -> None:
    if count:
        out.add(
            out.style(f"{indent}  # ({plural(count, 'unchanged line')} hidden)", "bright_black")
        )


def _item_cost(out: _Writer, change: Document) -> None:
    out.add(f"  {out.sign('~')} item {_quote(change['item']['full_name'])} {{")
    before = _number(money(change["before"]["purchase_cost"]))
    after = _number(money(change["after"]["purchase_cost"]))
    out.add(f"      {out.sign('~')} purchase_cost = {_quote(before)} -> {_quote(after)}")
    _attributes(
        out,
        "      ",
        " ",
        [("kind", change["item"]["kind"]), ("list_id", change["item"]["list_id"])],
    )
    out.add("    }")


def _create(out: _Writer, change: Document, timezone: str) -> None:
    out.add(f"  {out.sign('+')} invoice {{")
    _attributes(
        out,
        "      ",
        "+",
        [
            ("customer", change["customer"]["full_name"]),
            ("txn_date", change["txn_date"]),
            ("external_guid", change["external_guid"]),
            ("memo", change["memo"]),
            *([("mark", label)] if (label := mark_label(change)) else []),
        ],
    )
    out.add(f"        # written to QuickBooks from {local_time(change['not_before'], timezone)}")
    for line in change["lines"]:
        out.add("")
        _block(out, "      ", "+", "line", _line_pairs(line["after"]))
    out.add("    }")


def _update(out: _Writer, change: Document, timezone: str) -> None:
    invoice = change["invoice"]
    out.add(
        f"  {out.sign('~')} invoice {_quote(invoice.get('ref_number') or invoice['txn_id'])} {{"
    )
    _attributes(
        out,
        "      ",
        " ",
        [("txn_id", invoice["txn_id"]), ("edit_sequence", invoice["edit_sequence"])],
    )
    out.add(f"        # written to QuickBooks from {local_time(change['not_before'], timezone)}")
    kept = 0
    after_block = False
    for line in change["lines"]:
        if line["op"] == "keep":
            kept += 1
            continue
        if kept and after_block:
            out.add("")
        _hidden(out, "      ", kept)
        kept = 0
        after_block = True
        out.add("")
        if line["op"] == "modify":
            out.add(f"      {out.sign('~')} line {_quote(line['txn_line_id'])} {{")
            for field in line["fields"]:
                wrap = _number if field["field"] == "quantity" else str
                before, after = (
                    None if v is None else wrap(v) for v in (field["before"], field["after"])
                )
                out.add(
                    f"          {out.sign('~')} {field['field']} = "
                    f"{_quote(before)} -> {_quote(after)}"
                )
            item = line["after"]["item"]
            _attributes(out, "          ", " ", [("item", item.get("full_name"))])
            out.add("        }")
        elif line["op"] == "remove":
            _block(
                out,
                "      ",
                "-",
                f"line {_quote(line['txn_line_id'])}",
                _line_pairs(line["before"]),
            )
        else:
            _block(out, "      ", "+", "line", _line_pairs(line["after"]))
    if kept:
        out.add("")
    _hidden(out, "      ", kept)
    out.add("    }")


def _changes(out: _Writer, document: Document) -> None:
    timezone = document["billing"]["timezone"]
    out.add("Reconciler will perform the following actions:")
    for change in document["changes"]:
        out.add("")
        out.add(out.style(f"  # {headline(change)} {verb(change)}", bold=True))
        if change["action"] == UPDATE_ITEM_COST:
            _item_cost(out, change)
        elif change["action"] == CREATE_INVOICE:
            _create(out, change, timezone)
        else:
            _update(out, change, timezone)
    out.add("")
    out.add(out.style(summary_sentence(document["summary"]), bold=True))


def _notices(out: _Writer, document: Document) -> None:
    for level, title, colour in _LEVEL_TITLES:
        notices = [n for n in document["notices"] if n["level"] == level]
        if not notices:
            continue
        out.add("")
        out.add(out.style(f"{title}:", colour, bold=True))
        for notice in notices:
            out.add(f"  {out.style('-', colour)} {notice['message']} [{notice['code']}]")


def render_text(document: Document, *, color: bool = False) -> str:
    """The plan as Terraform-style text (ANSI colours only when ``color``)."""
    out = _Writer(color)
    if document["changes"]:
        _changes(out, document)
    else:
        out.add(out.style(NO_CHANGES, "green", bold=True))
        out.add("")
        out.add(NO_CHANGES_DETAIL)
    _notices(out, document)
    safety = document["safety"]
    if safety["exceeded"]:
        out.add("")
        state = "accepted with --force" if safety["forced"] else "over the safety threshold"
        out.add(
            out.style(
                f"Safety: lines change on {safety['changed_invoices']} of "
                f"{safety['existing_invoices']} existing invoices ({state}).",
                "red",
                bold=True,
            )
        )
    return "\n".join(out.lines) + "\n"
