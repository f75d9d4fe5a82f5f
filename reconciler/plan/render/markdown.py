"""The plan as GitHub-flavoured markdown, for a pull-request comment.

A summary table of every change first, then errors and warnings as GitHub
alerts, then one collapsed ``<details>`` section per invoice with its lines.
"""

from __future__ import annotations

import html

from reconciler.plan.document import CREATE_INVOICE, UPDATE_ITEM_COST, Document
from reconciler.plan.render.view import (
    NO_CHANGES,
    NO_CHANGES_DETAIL,
    customer_name,
    headline,
    invoice_date,
    invoice_number,
    line_counts,
    local_time,
    mark_label,
    money,
    organizations,
    plural,
    summary_sentence,
    verb,
)

# A marker other comments can look for to update this one in place.
COMMENT_MARKER = "<!-- reconciler-plan -->"

_SIGNS = {"add": "+", "modify": "~", "remove": "-", "keep": ""}
_ALERTS = (("error", "CAUTION", "error"), ("warning", "WARNING", "warning"))


def _cell(value: object) -> str:
    """Text safe inside a table cell: no pipes, no HTML, no line breaks."""
    if value is None:
        return ""
    text = html.escape(str(value), quote=False).replace("|", "\\|")
    return " ".join(text.split())


def _code(value: object) -> str:
    return f"`{value}`" if value not in (None, "") else ""


def _lines_cell(change: Document) -> str:
    counts = line_counts(change)
    parts = [f"{_SIGNS[op]}{counts[op]}" for op in ("add", "modify", "remove") if counts[op]]
    return " ".join(parts) or "no line changes"


def _summary_table(document: Document) -> list[str]:
    rows = [
        "| | Change | Customer | Organizations | Date | Lines |",
        "|:-:|:--|:--|:--|:--|:--|",
    ]
    for change in document["changes"]:
        action = change["action"]
        if action == UPDATE_ITEM_COST:
            before = money(change["before"]["purchase_cost"]) or "none"
            rows.append(
                f"| `~` | item cost: {_cell(change['item']['full_name'])} | | | | "
                f"cost {_cell(before)} → {_cell(money(change['after']['purchase_cost']))} |"
            )
            continue
        sign = "+" if action == CREATE_INVOICE else "~"
        what = "new invoice" if action == CREATE_INVOICE else f"invoice #{invoice_number(change)}"
        rows.append(
            f"| `{sign}` | {_cell(what)} | {_cell(customer_name(change))} | "
            f"{_cell(organizations(change))} | {invoice_date(change)} | {_lines_cell(change)} |"
        )
    return rows


def _notices(document: Document) -> list[str]:
    out: list[str] = []
    for level, alert, noun in _ALERTS:
        notices = [n for n in document["notices"] if n["level"] == level]
        if not notices:
            continue
        out += ["", f"> [!{alert}]", f"> **{plural(len(notices), noun)}**"]
        out += [f"> - {_cell(n['message'])} `{n['code']}`" for n in notices]
    notes = [n for n in document["notices"] if n["level"] == "info"]
    if notes:
        out += ["", f"<details><summary>{plural(len(notes), 'note')}</summary>", ""]
        out += [f"- {_cell(n['message'])} `{n['code']}`" for n in notes]
        out += ["", "</details>"]
    return out


def _line_row(line: Document) -> str:
    op = line["op"]
    sign = f"`{_SIGNS[op]}`" if _SIGNS[op] else ""
    shown = line["after"] if op in ("add", "modify") else line["before"]
    item = (shown.get("item") or {}).get("full_name")
    cells = {
        "description": _cell(shown.get("description")),
        "quantity": _cell(shown.get("quantity")),
        "service_date": _cell(shown.get("service_date")),
    }
    if op == "modify":
        for field in line["fields"]:
            old = _cell(field["before"]) or "none"
            cells[field["field"]] = f"~~{old}~~ {_cell(field['after'])}"
    elif op == "remove":
        cells = {name: f"~~{value}~~" if value else "" for name, value in cells.items()}
    line_id = _code(line.get("txn_line_id")) or "new"
    return (
        f"| {sign} | {line_id} | {_cell(item)} | {cells['description']} | "
        f"{cells['quantity']} | {cells['service_date']} |"
    )


def _invoice_details(change: Document, timezone: str) -> list[str]:
    action = change["action"]
    sign = "+" if action == CREATE_INVOICE else "~"
    title = html.escape(f"{headline(change)} {verb(change)}", quote=False)
    out = ["", f"<details><summary><code>{sign}</code> {title}</summary>", ""]
    if action == CREATE_INVOICE:
        label = mark_label(change)
        marked = f", marked {label}" if label else ""
        out.append(
            f"ExternalGUID `{change['external_guid']}`, memo “{_cell(change['memo'])}”{marked}; "
            f"written to QuickBooks from {local_time(change['not_before'], timezone)}."
        )
    else:
        invoice = change["invoice"]
        out.append(
            f"TxnID `{invoice['txn_id']}`, EditSequence `{invoice['edit_sequence']}`; "
            f"written to QuickBooks from {local_time(change['not_before'], timezone)}."
        )
    out += [
        "",
        "| | Line | Item | Description | Quantity | Service date |",
        "|:-:|:--|:--|:--|--:|:--|",
    ]
    kept = 0
    for line in change["lines"]:
        if line["op"] == "keep":
            kept += 1
            continue
        if kept:
            out.append(f"| | | *{plural(kept, 'unchanged line')}* | | | |")
            kept = 0
        out.append(_line_row(line))
    if kept:
        out.append(f"| | | *{plural(kept, 'unchanged line')}* | | | |")
    out += ["", "</details>"]
    return out


def render_markdown(document: Document) -> str:
    """The plan as a pull-request comment."""
    out = [COMMENT_MARKER, "### Reconciler plan", ""]
    if document["changes"]:
        out += [f"**{summary_sentence(document['summary'])}**", ""]
        out += _summary_table(document)
    else:
        out += [f"**{NO_CHANGES}**", "", NO_CHANGES_DETAIL]
    out += _notices(document)
    safety = document["safety"]
    if safety["exceeded"]:
        state = "accepted with `--force`" if safety["forced"] else "over the safety threshold"
        out += [
            "",
            "> [!IMPORTANT]",
            f"> Lines change on {safety['changed_invoices']} of {safety['existing_invoices']} "
            f"existing invoices ({state}).",
        ]
    timezone = document["billing"]["timezone"]
    for change in document["changes"]:
        if change["action"] != UPDATE_ITEM_COST:
            out += _invoice_details(change, timezone)
    fingerprints = document["fingerprints"]
    out += [
        "",
        f"<sub>plan `{document['plan_id'][:12]}` · billing {document['billing']['mode']} · "
        f"config `{fingerprints['config'][:12]}` · charges `{fingerprints['charges'][:12]}` · "
        f"QuickBooks state `{fingerprints['state'][:12]}` · "
        f"reconciler {document['generator']['version']}</sub>",
    ]
    return "\n".join(out) + "\n"
