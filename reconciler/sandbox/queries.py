"""Queries as QuickBooks answers them: filters, what a ``*Ret`` includes, iterators.

- By ListID/TxnID: an unknown one fails with 3120. By FullName: the names
  found are returned with a 500 warning naming the first one that is not.
- Filtered queries return active list objects unless ``ActiveStatus`` says
  otherwise; nothing found is status 1 ("did not find a matching object").
- Invoices carry their lines only with ``IncludeLineItems``, their linked
  transactions only with ``IncludeLinkedTxns``, and private data (``DataExtRet``)
  only for the ``OwnerID`` values asked for (``0``: public custom fields).
- ``MaxReturned`` caps the answer. ``iterator="Start"`` opens an iterator
  (``iteratorID``, ``iteratorRemainingCount``); ``Continue`` takes the next
  page; an iterator that is unknown, finished or from an ended session is 3391.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books, full_name
from reconciler.sandbox.elements import Element
from reconciler.sandbox.status import (
    NO_MATCH,
    OK,
    Reply,
    StatusError,
    not_fully_completed,
    object_not_found,
    unknown_iterator,
)

View = Callable[[Element], Element]


@dataclass(frozen=True)
class Shape:
    """What a returned ``*Ret`` holds, from the query's options."""

    owner_ids: frozenset[str] = frozenset()
    include: tuple[str, ...] = ()
    lines: bool = True
    linked: bool = True

    @classmethod
    def of(cls, request: Element, *, lines: bool = True, linked: bool = True) -> Shape:
        """The shape a query asks for: the private data of its ``OwnerID``s and its
        ``IncludeRetElement``s; ``lines`` and ``linked`` as the caller read them from the query."""
        return cls(
            owner_ids=frozenset(
                (node.text or "").strip().lower() for node in request.iterfind("OwnerID")
            ),
            include=tuple(
                (node.text or "").strip() for node in request.iterfind("IncludeRetElement")
            ),
            lines=lines,
            linked=linked,
        )

    def apply(self, ret: Element) -> Element:
        """A copy of ``ret`` trimmed to this shape."""
        view = copy.deepcopy(ret)
        for data_ext in list(view.iter("DataExtRet")):
            if (el.text_of(data_ext, "OwnerID") or "0").lower() not in self.owner_ids:
                data_ext.getparent().remove(data_ext)  # type: ignore[union-attr]
        if not self.lines:
            el.drop(view, "InvoiceLineRet", "InvoiceLineGroupRet")
        if not self.linked:
            el.drop(view, "LinkedTxn")
        if self.include:
            for child in list(el.children(view)):
                if child.tag not in self.include:
                    view.remove(child)
        return view


@dataclass
class _Iterator:
    pending: list[str]
    fetch: Callable[[str], Element | None]
    view: View


class Iterators:
    """The iterators open in one QuickBooks session."""

    def __init__(self) -> None:
        self._open: dict[str, _Iterator] = {}
        self._started = 0

    def clear(self) -> None:
        """End the session: every open iterator expires."""
        self._open.clear()

    def answer(
        self,
        request: Element,
        *,
        select: Callable[[], tuple[list[str], StatusError | None]],
        fetch: Callable[[str], Element | None],
        view: View,
    ) -> Reply:
        """Answer a query, paging through an iterator when the request asks for one."""
        mode = request.get("iterator")
        size = _max_returned(request)
        if mode in ("Continue", "Stop"):
            iterator_id = request.get("iteratorID") or ""
            if iterator_id not in self._open:
                raise unknown_iterator(iterator_id)
            if mode == "Stop":
                del self._open[iterator_id]
                return Reply()
            return self._page(iterator_id, size)
        ids, warning = select()
        if mode == "Start":
            self._started += 1
            iterator_id = "{" + str(uuid.UUID(int=self._started)) + "}"
            self._open[iterator_id] = _Iterator(ids, fetch, view)
            return self._page(iterator_id, size)
        rets = _fetch_all(ids[:size] if size else ids, fetch, view)
        return Reply(rets, _status(rets, warning))

    def _page(self, iterator_id: str, size: int | None) -> Reply:
        iterator = self._open[iterator_id]
        take = size or len(iterator.pending)
        page, iterator.pending = iterator.pending[:take], iterator.pending[take:]
        if not iterator.pending:
            del self._open[iterator_id]
        rets = _fetch_all(page, iterator.fetch, iterator.view)
        return Reply(
            rets,
            _status(rets, None),
            {"iteratorRemainingCount": str(len(iterator.pending)), "iteratorID": iterator_id},
        )


def _fetch_all(ids: Iterable[str], fetch: Callable[[str], Element | None], view: View) -> list:
    return [view(found) for object_id in ids if (found := fetch(object_id)) is not None]


def _status(rets: list[Element], warning: StatusError | None) -> tuple[int, str, str]:
    if warning is not None:
        return (warning.code, warning.severity, warning.message)
    return OK if rets else NO_MATCH


def _max_returned(request: Element) -> int | None:
    text = el.text_of(request, "MaxReturned")
    return int(text) if text and text.isdigit() and int(text) > 0 else None


# --------------------------------------------------------------------------
# Customers and items
# --------------------------------------------------------------------------


def select_list(
    books: Books,
    objects: dict[str, Element],
    request: Element,
    *,
    kinds: tuple[str, ...] | None,
    default_tz: dt.tzinfo,
) -> tuple[list[str], StatusError | None]:
    """The ListIDs a CustomerQuery or Item*Query selects, and a warning if any."""

    def wanted(ret: Element) -> bool:
        return kinds is None or ret.tag in kinds

    list_ids = [(node.text or "").strip() for node in request.iterfind("ListID")]
    if list_ids:
        for list_id in list_ids:
            if list_id not in objects or not wanted(objects[list_id]):
                raise object_not_found(list_id)
        return list_ids, None
    names = [(node.text or "").strip() for node in request.iterfind("FullName")]
    if names:
        by_name = {full_name(ret).casefold(): key for key, ret in objects.items() if wanted(ret)}
        found = [by_name[name.casefold()] for name in names if name.casefold() in by_name]
        missing = [name for name in names if name.casefold() not in by_name]
        return found, not_fully_completed(missing[0]) if missing else None
    tests = [wanted, _active_test(el.text_of(request, "ActiveStatus", "ActiveOnly") or "")]
    tests += _modified_tests(
        el.text_of(request, "FromModifiedDate"), el.text_of(request, "ToModifiedDate"), default_tz
    )
    tests += _name_tests(request)
    selected = [key for key, ret in objects.items() if all(test(ret) for test in tests)]
    return sorted(selected, key=lambda key: full_name(objects[key]).casefold()), None


def _active_test(status: str) -> Callable[[Element], bool]:
    if status == "All":
        return lambda ret: True
    wanted = status != "InactiveOnly"
    return lambda ret: el.is_true(el.text_of(ret, "IsActive", "true")) == wanted


def _modified_tests(
    start: str | None, end: str | None, default_tz: dt.tzinfo
) -> list[Callable[[Element], bool]]:
    tests: list[Callable[[Element], bool]] = []
    if start:
        low = el.parse_timestamp(start, default_tz=default_tz)
        tests.append(lambda ret: _modified(ret, default_tz) >= low)
    if end:
        high = el.parse_timestamp(end, default_tz=default_tz, end_of_day=True)
        tests.append(lambda ret: _modified(ret, default_tz) <= high)
    return tests


def _modified(ret: Element, default_tz: dt.tzinfo) -> dt.datetime:
    return el.parse_timestamp(
        el.text_of(ret, "TimeModified") or "1970-01-01", default_tz=default_tz
    )


def _name_tests(request: Element) -> list[Callable[[Element], bool]]:
    tests: list[Callable[[Element], bool]] = []
    name_filter = request.find("NameFilter")
    if name_filter is not None:
        criterion = el.text_of(name_filter, "MatchCriterion") or "StartsWith"
        needle = (el.text_of(name_filter, "Name") or "").casefold()
        tests.append(lambda ret: _matches(full_name(ret).casefold(), criterion, needle))
    name_range = request.find("NameRangeFilter")
    if name_range is not None:
        low = (el.text_of(name_range, "FromName") or "").casefold()
        high = el.text_of(name_range, "ToName")
        tests.append(lambda ret: full_name(ret).casefold() >= low)
        if high is not None:
            tests.append(lambda ret: full_name(ret).casefold() <= high.casefold())
    return tests


def _matches(value: str, criterion: str, needle: str) -> bool:
    if criterion == "Contains":
        return needle in value
    if criterion == "EndsWith":
        return value.endswith(needle)
    return value.startswith(needle)


# --------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------


def select_invoices(
    books: Books, request: Element, *, today: dt.date, default_tz: dt.tzinfo
) -> tuple[list[str], StatusError | None]:
    """The TxnIDs an InvoiceQuery selects, in the books' order."""
    txn_ids = [(node.text or "").strip() for node in request.iterfind("TxnID")]
    if txn_ids:
        for txn_id in txn_ids:
            if txn_id not in books.invoices:
                raise object_not_found(txn_id)
        return txn_ids, None
    tests: list[Callable[[Element], bool]] = []
    for tag, fold in (("RefNumber", True), ("RefNumberCaseSensitive", False)):
        numbers = {_fold((node.text or "").strip(), fold) for node in request.iterfind(tag)}
        if numbers:
            tests.append(
                lambda ret, numbers=numbers, fold=fold: (
                    _fold(el.text_of(ret, "RefNumber") or "", fold) in numbers
                )
            )
    modified = request.find("ModifiedDateRangeFilter")
    if modified is not None:
        tests += _modified_tests(
            el.text_of(modified, "FromModifiedDate"),
            el.text_of(modified, "ToModifiedDate"),
            default_tz,
        )
    dates = request.find("TxnDateRangeFilter")
    if dates is not None:
        low, high = _date_range(dates, today)
        if low is not None:
            tests.append(lambda ret: _txn_date(ret) >= low)
        if high is not None:
            tests.append(lambda ret: _txn_date(ret) <= high)
    entities = request.find("EntityFilter")
    if entities is not None:
        customers = _entities(books, entities)
        tests.append(lambda ret: el.text_of(ret, "CustomerRef/ListID") in customers)
    tests += _ref_number_tests(request)
    paid = el.text_of(request, "PaidStatus", "All")
    if paid != "All":
        wanted = paid == "PaidOnly"
        tests.append(lambda ret: el.is_true(el.text_of(ret, "IsPaid")) == wanted)
    selected = [key for key, ret in books.invoices.items() if all(test(ret) for test in tests)]
    return selected, None


def _fold(value: str, fold: bool) -> str:
    return value.casefold() if fold else value


def _txn_date(ret: Element) -> dt.date:
    return dt.date.fromisoformat(el.text_of(ret, "TxnDate") or "1970-01-01")


def _entities(books: Books, entities: Element) -> set[str]:
    """The customer ListIDs an EntityFilter names (with their jobs when asked)."""
    chosen: set[str] = set()
    for tag, with_children in (
        ("ListID", False),
        ("FullName", False),
        ("ListIDWithChildren", True),
        ("FullNameWithChildren", True),
    ):
        for node in entities.iterfind(tag):
            customer = books.customer((node.text or "").strip())
            if customer is None:
                continue
            family = (
                [customer, *books.children_of("customer", customer)]
                if with_children
                else [customer]
            )
            chosen.update(el.text_of(ret, "ListID") or "" for ret in family)
    return chosen


def _ref_number_tests(request: Element) -> list[Callable[[Element], bool]]:
    tests: list[Callable[[Element], bool]] = []
    ref_filter = request.find("RefNumberFilter")
    if ref_filter is not None:
        criterion = el.text_of(ref_filter, "MatchCriterion") or "StartsWith"
        needle = (el.text_of(ref_filter, "RefNumber") or "").casefold()
        tests.append(
            lambda ret: _matches((el.text_of(ret, "RefNumber") or "").casefold(), criterion, needle)
        )
    ref_range = request.find("RefNumberRangeFilter")
    if ref_range is not None:
        low = el.text_of(ref_range, "FromRefNumber")
        high = el.text_of(ref_range, "ToRefNumber")
        if low is not None:
            tests.append(lambda ret: _ref_key(el.text_of(ret, "RefNumber")) >= _ref_key(low))
        if high is not None:
            tests.append(lambda ret: _ref_key(el.text_of(ret, "RefNumber")) <= _ref_key(high))
    return tests


def _ref_key(number: str | None) -> tuple[int, str]:
    # QuickBooks compares invoice numbers numerically when they are numbers.
    number = (number or "").strip()
    return (int(number), "") if number.isdigit() else (10**12, number.casefold())


def _date_range(dates: Element, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    macro = el.text_of(dates, "DateMacro")
    if macro is None:
        low = el.text_of(dates, "FromTxnDate")
        high = el.text_of(dates, "ToTxnDate")
        return (
            dt.date.fromisoformat(low) if low else None,
            dt.date.fromisoformat(high) if high else None,
        )
    return date_macro(macro, today)


def date_macro(macro: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The dates a qbXML DateMacro stands for (calendar macros only)."""
    month_start = today.replace(day=1)
    last_month_end = month_start - dt.timedelta(days=1)
    next_month_start = (month_start + dt.timedelta(days=32)).replace(day=1)
    ranges: dict[str, tuple[dt.date | None, dt.date | None]] = {
        "All": (None, None),
        "Today": (today, today),
        "Yesterday": (today - dt.timedelta(days=1),) * 2,
        "ThisMonth": (month_start, _month_end(month_start)),
        "ThisMonthToDate": (month_start, today),
        "LastMonth": (last_month_end.replace(day=1), last_month_end),
        "NextMonth": (next_month_start, _month_end(next_month_start)),
        "ThisCalendarYear": (dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)),
        "ThisCalendarYearToDate": (dt.date(today.year, 1, 1), today),
        "LastCalendarYear": (dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
    }
    if macro not in ranges:
        raise NotImplementedError(f"the simulator does not know the DateMacro {macro}")
    return ranges[macro]


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
