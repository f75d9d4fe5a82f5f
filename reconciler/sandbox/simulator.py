"""A QuickBooks Desktop stand-in: one qbXML request document in, one response out.

:meth:`QuickBooksSimulator.process` behaves like QBXMLRP2's ``ProcessRequest``:

- A request that is not well-formed, lacks the ``<?qbxml version?>``
  instruction, or (when an XSD directory is given) breaks the qbXML schema fails
  as a whole with HRESULT 0x80040400, "QuickBooks found an error when parsing
  the provided XML text stream." (:class:`RequestProcessorError`); a version
  QuickBooks does not support fails with 0x80040423.
- Otherwise each request element gets its ``*Rs`` with ``statusCode``,
  ``statusSeverity``, ``statusMessage`` and its ``requestID`` echoed. With
  ``onError="stopOnError"`` (and ``rollbackOnError``, which QuickBooks
  Desktop treats the same way) nothing after the first error is processed or
  answered; ``continueOnError`` answers every request.

The semantics of each request live in :mod:`~reconciler.sandbox.queries`,
:mod:`~reconciler.sandbox.invoices`, :mod:`~reconciler.sandbox.lists` and
:mod:`~reconciler.sandbox.dataext`; faults in :mod:`~reconciler.sandbox.faults`.
A query of a list or transaction kind the simulator does not model finds
nothing (status 1); any other request it does not model is refused with 3250,
never answered with a success that changed nothing. The simulator never uses the
product's own qbXML layer: it is an independent check of what the product sends.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path, PureWindowsPath

from reconciler.base.xmlsafe import XMLInputError, parse_xml
from reconciler.qbxml.xsd import load_xsd, xsd_errors
from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books
from reconciler.sandbox.dataext import add_data_ext
from reconciler.sandbox.elements import Element
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.host import (
    QBXML_VERSIONS,
    company_ret,
    host_ret,
    preferences_ret,
    version_key,
)
from reconciler.sandbox.invoices import add_invoice, mod_invoice
from reconciler.sandbox.lists import ADDS, MODS, add_list_object, mod_item
from reconciler.sandbox.queries import Iterators, Shape, select_invoices, select_list
from reconciler.sandbox.status import (
    NO_MATCH,
    OTHER_FILE_OPEN,
    PARSE_ERROR,
    UNSUPPORTED_FEATURE,
    UNSUPPORTED_VERSION,
    Reply,
    RequestProcessorError,
    ResponseLost,
    StatusError,
    lock_error,
)

_VERSION = re.compile(r"<\?qbxml\s+version\s*=\s*[\"']([0-9.]+)[\"']\s*\?>")
# A bound on what one request may weigh (QuickBooks itself chokes far earlier).
MAX_REQUEST_CHARS = 20_000_000

_ITEM_QUERIES = {
    "ItemQueryRq": None,
    "ItemServiceQueryRq": ("ItemServiceRet",),
    "ItemNonInventoryQueryRq": ("ItemNonInventoryRet",),
    "ItemOtherChargeQueryRq": ("ItemOtherChargeRet",),
    "ItemInventoryQueryRq": ("ItemInventoryRet",),
}


class QuickBooksSimulator:
    """A simulated QuickBooks with one company file open (see the module docstring)."""

    def __init__(
        self,
        books: Books,
        *,
        product_name: str = "QuickBooks Pro 2024",
        supported_versions: Sequence[str] = QBXML_VERSIONS,
        xsd_dir: Path | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.books = books
        self.product_name = product_name
        self.supported_versions = tuple(supported_versions)
        self.faults = Faults()
        # Every request document process() received, in order (what the product sent).
        self.requests: list[str] = []
        # What QuickBooks would write to qbsdklog.txt about refused requests.
        self.log: list[str] = []
        self._schema = load_xsd(Path(xsd_dir)) if xsd_dir is not None else None
        self._clock = clock or (lambda: dt.datetime.now().astimezone())
        self._iterators = Iterators()

    @property
    def qbxml_version(self) -> str:
        """The highest qbXML version this QuickBooks supports."""
        return max(self.supported_versions, key=version_key)

    def now(self) -> dt.datetime:
        """The simulator's current time (aware)."""
        moment = self._clock()
        return moment if moment.tzinfo else moment.astimezone()

    # ------------------------------------------------------------------
    # Sessions (what the Web Connector opens and closes around a run)
    # ------------------------------------------------------------------

    def begin_session(self, company_file: str = "") -> None:
        """Open the company file (``""``: whichever is open), as BeginSession does.

        Raises :class:`RequestProcessorError` when the file cannot be opened or
        another one is asked for.
        """
        if self.faults.closed is not None:
            raise RequestProcessorError(*self.faults.closed)
        if company_file and not _same_file(company_file, self.books.file_path):
            raise RequestProcessorError(*OTHER_FILE_OPEN)

    def end_session(self) -> None:
        """Close the session: its iterators expire."""
        self._iterators.clear()

    # ------------------------------------------------------------------
    # ProcessRequest
    # ------------------------------------------------------------------

    def process(self, request: str) -> str:
        """Answer one qbXML request document (see the module docstring)."""
        if self.faults.closed is not None:
            raise RequestProcessorError(*self.faults.closed)
        self.requests.append(request)
        self.faults.run_due(self.books, self.now())
        answer = self._process(request)
        if self.faults.take_lost_response():
            raise ResponseLost(answer)
        return answer

    def host_company_preferences(self, owner_id: str | None = None) -> str:
        """The HostQuery/CompanyQuery/PreferencesQuery answer the Web Connector sends first.

        These are the Web Connector's own requests: faults armed for the
        server's requests do not fire on them.
        """
        owner = f"<OwnerID>{owner_id}</OwnerID>" if owner_id else ""
        return self._process(
            request_document(
                '<HostQueryRq requestID="0"/>',
                f'<CompanyQueryRq requestID="1">{owner}</CompanyQueryRq>',
                '<PreferencesQueryRq requestID="2"/>',
                version=self.qbxml_version,
                on_error="continueOnError",
            )
        )

    def _process(self, request: str) -> str:
        moment = self.now()
        messages = self._parse(request)
        stop_on_error = messages.get("onError") != "continueOnError"
        responses: list[Element] = []
        for item in el.children(messages):
            response = self._answer(item, moment)
            responses.append(response)
            if stop_on_error and response.get("statusSeverity") == "Error":
                break
        return el.document(responses)

    def _parse(self, request: str) -> Element:
        if len(request) > MAX_REQUEST_CHARS:
            self._refuse(PARSE_ERROR, f"request of {len(request)} characters is too large")
        match = _VERSION.search(request)
        if match is None:
            self._refuse(PARSE_ERROR, "no <?qbxml version?> processing instruction")
        version = match.group(1)  # type: ignore[union-attr]
        try:
            root = parse_xml(request, source="qbXML request")
        except XMLInputError as exc:
            self._refuse(PARSE_ERROR, str(exc))
        if version not in self.supported_versions:
            self._refuse(UNSUPPORTED_VERSION, f"qbXML version {version} is not supported")
        if self._schema is not None:
            errors = xsd_errors(self._schema, request)
            if errors:
                self._refuse(PARSE_ERROR, *errors)
        messages = root.find("QBXMLMsgsRq")
        if root.tag != "QBXML" or messages is None:
            self._refuse(PARSE_ERROR, "the document is not a QBXML request message set")
        return messages  # type: ignore[return-value]

    def _refuse(self, error: tuple[str, str], *details: str) -> None:
        self.log.extend(details)
        raise RequestProcessorError(*error, details=details)

    def _answer(self, request: Element, moment: dt.datetime) -> Element:
        if not request.tag.endswith("Rq"):
            self._refuse(PARSE_ERROR, f"<{request.tag}> is not a request")
        request_id = request.get("requestID")
        response_tag = request.tag[:-2] + "Rs"
        try:
            reply = self._dispatch(request, moment)
        except StatusError as error:
            response = el.response_element(
                response_tag,
                request_id=request_id,
                status=(error.code, error.severity, error.message),
            )
            response.extend(error.rets)
            return response
        response = el.response_element(
            response_tag, request_id=request_id, status=reply.status, **reply.attributes
        )
        response.extend(reply.rets)
        return response

    def _dispatch(self, request: Element, moment: dt.datetime) -> Reply:
        tag = request.tag
        body = request.find(tag[:-2])
        writes = tag.endswith(("AddRq", "ModRq"))
        if writes:
            code = self.faults.take_lock(adding=tag.endswith("AddRq"))
            if code is not None:
                raise lock_error(code, tag[:-5], adding=tag.endswith("AddRq"))
        if tag == "HostQueryRq":
            return Reply([host_ret(self.product_name, self.supported_versions)])
        if tag == "CompanyQueryRq":
            return Reply([company_ret(self.books, Shape.of(request).owner_ids)])
        if tag == "PreferencesQueryRq":
            return Reply([preferences_ret()])
        if tag == "CustomerQueryRq":
            return self._list_query(request, self.books.customers, None, customers=True)
        if tag in _ITEM_QUERIES:
            return self._list_query(request, self.books.items, _ITEM_QUERIES[tag])
        if tag == "InvoiceQueryRq":
            return self._invoice_query(request, moment)
        if tag.endswith("QueryRq"):
            # Lists and transactions the simulator does not model: the books hold none.
            return Reply(status=NO_MATCH)
        if body is None:
            raise self._unsupported(tag)
        shape = Shape.of(request)
        if tag == "DataExtAddRq":
            return Reply([add_data_ext(self.books, body, moment=moment)])
        if tag == "InvoiceAddRq":
            return Reply([shape.apply(add_invoice(self.books, body, moment=moment))])
        if tag == "InvoiceModRq":
            return Reply([shape.apply(mod_invoice(self.books, body, moment=moment))])
        if body.tag in ADDS:
            return Reply([shape.apply(add_list_object(self.books, body, moment=moment))])
        if body.tag in MODS:
            return Reply([shape.apply(mod_item(self.books, body, moment=moment))])
        raise self._unsupported(tag)

    def _unsupported(self, tag: str) -> StatusError:
        """The refusal of a request QuickBooks would carry out and the simulator does not model.

        It is refused as QuickBooks refuses what an edition lacks, so that a
        client meets an error status rather than a success that changed nothing.
        """
        self.log.append(f"{tag} is not modelled by the simulator")
        return StatusError(3250, UNSUPPORTED_FEATURE)

    def _list_query(
        self,
        request: Element,
        objects: dict[str, Element],
        kinds: tuple[str, ...] | None,
        *,
        customers: bool = False,
    ) -> Reply:
        shape = Shape.of(request)
        if customers:
            balances = self.books.balances()

            def view(ret: Element) -> Element:
                return shape.apply(self.books.customer_view(ret, balances))

        else:
            view = shape.apply
        return self._iterators.answer(
            request,
            select=lambda: select_list(
                self.books, objects, request, kinds=kinds, default_tz=self._tz()
            ),
            fetch=objects.get,
            view=view,
        )

    def _invoice_query(self, request: Element, moment: dt.datetime) -> Reply:
        shape = Shape.of(
            request,
            lines=el.is_true(el.text_of(request, "IncludeLineItems")),
            linked=el.is_true(el.text_of(request, "IncludeLinkedTxns")),
        )
        return self._iterators.answer(
            request,
            select=lambda: select_invoices(
                self.books, request, today=moment.date(), default_tz=self._tz()
            ),
            fetch=self.books.invoices.get,
            view=shape.apply,
        )

    def _tz(self) -> dt.tzinfo:
        return self.now().tzinfo or dt.UTC


def _same_file(requested: str, open_file: str) -> bool:
    """Whether two Windows paths name the same file (case-insensitively, as Windows does)."""
    return PureWindowsPath(requested.strip()) == PureWindowsPath(open_file.strip())


def request_document(*requests: str, version: str = "13.0", on_error: str = "stopOnError") -> str:
    """A qbXML request document around request elements given as XML text."""
    body = "".join(requests)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?>'
        f'<QBXML><QBXMLMsgsRq onError="{on_error}">{body}</QBXMLMsgsRq></QBXML>'
    )
