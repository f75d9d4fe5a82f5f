"""What QuickBooks says about itself: HostRet, CompanyRet and PreferencesRet.

The Web Connector sends HostQuery, CompanyQuery and PreferencesQuery when it
opens a session and hands their response to the server as ``strHCPResponse``.
The shapes follow a real QuickBooks Pro 2014 answer.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Sequence

from lxml import etree

from reconciler.sandbox import elements as el
from reconciler.sandbox.books import Books
from reconciler.sandbox.elements import Element

QBXML_VERSIONS = (
    "1.0",
    "1.1",
    "2.0",
    "2.1",
    "3.0",
    "4.0",
    "4.1",
    "5.0",
    "6.0",
    "7.0",
    "8.0",
    "9.0",
    "10.0",
    "11.0",
    "12.0",
    "13.0",
    "14.0",
    "15.0",
    "16.0",
)

_YEAR = re.compile(r"\b(20\d\d)\b")


def version_key(version: str) -> tuple[int, ...]:
    """A qbXML version as a sortable tuple (``"13.0"`` -> ``(13, 0)``)."""
    return tuple(int(part) for part in version.split("."))


def versions_up_to(version: str) -> tuple[str, ...]:
    """Every qbXML version from 1.0 up to and including ``version``."""
    return tuple(v for v in QBXML_VERSIONS if version_key(v) <= version_key(version))


def major_version(product_name: str) -> str:
    """QuickBooks' internal major version: 24 for the 2014 products, 34 for 2024."""
    match = _YEAR.search(product_name)
    return str(int(match.group(1)) - 1990) if match else "34"


def host_ret(product_name: str, supported_versions: Sequence[str]) -> Element:
    """A HostRet for a US desktop edition in single-user mode."""
    ret = etree.Element("HostRet")
    el.leaf(ret, "ProductName", product_name)
    el.leaf(ret, "MajorVersion", major_version(product_name))
    el.leaf(ret, "MinorVersion", "0")
    el.leaf(ret, "Country", "US")
    for version in supported_versions:
        el.leaf(ret, "SupportedQBXMLVersion", version)
    el.leaf(ret, "IsAutomaticLogin", "false")
    el.leaf(ret, "QBFileMode", "SingleUser")
    return ret


def company_ret(books: Books, owner_ids: Collection[str]) -> Element:
    """A CompanyRet with the company's name and the private data of ``owner_ids``."""
    ret = etree.Element("CompanyRet")
    el.leaf(ret, "IsSampleCompany", "false")
    el.leaf(ret, "CompanyName", books.name)
    el.leaf(ret, "LegalCompanyName", books.name)
    el.leaf(ret, "FirstMonthFiscalYear", "January")
    el.leaf(ret, "FirstMonthIncomeTaxYear", "January")
    el.leaf(ret, "TaxForm", "OtherOrNone")
    for data_ext in books.data_ext:
        if (el.text_of(data_ext, "OwnerID") or "0").lower() in owner_ids:
            ret.append(copy.deepcopy(data_ext))
    return ret


def preferences_ret() -> Element:
    """A PreferencesRet with QuickBooks' defaults for a service company."""
    ret = etree.Element("PreferencesRet")
    _group(
        ret,
        "AccountingPreferences",
        IsUsingAccountNumbers="false",
        IsRequiringAccounts="true",
        IsUsingClassTracking="false",
        IsUsingAuditTrail="true",
        IsAssigningJournalEntryNumbers="true",
    )
    _group(
        ret,
        "FinanceChargePreferences",
        AnnualInterestRate="0.00",
        MinFinanceCharge="0.00",
        GracePeriod="0",
        IsAssessingForOverdueCharges="false",
        CalculateChargesFrom="DueDate",
        IsMarkedToBePrinted="false",
    )
    _group(
        ret,
        "JobsAndEstimatesPreferences",
        IsUsingEstimates="true",
        IsUsingProgressInvoicing="false",
        IsPrintingItemsWithZeroAmounts="false",
    )
    _group(ret, "MultiCurrencyPreferences", IsMultiCurrencyOn="false")
    _group(
        ret,
        "MultiLocationInventoryPreferences",
        IsMultiLocationInventoryAvailable="false",
        IsMultiLocationInventoryEnabled="false",
    )
    _group(
        ret,
        "PurchasesAndVendorsPreferences",
        IsUsingInventory="false",
        DaysBillsAreDue="10",
        IsAutomaticallyUsingDiscounts="false",
    )
    _group(
        ret, "ReportsPreferences", AgingReportBasis="AgeFromDueDate", SummaryReportBasis="Accrual"
    )
    sales = _group(
        ret,
        "SalesAndCustomersPreferences",
        IsTrackingReimbursedExpensesAsIncome="false",
        IsAutoApplyingPayments="true",
    )
    _group(sales, "PriceLevels", IsUsingPriceLevels="false")
    _group(ret, "TimeTrackingPreferences", FirstDayOfWeek="Monday")
    _group(
        ret,
        "CurrentAppAccessRights",
        IsAutomaticLoginAllowed="true",
        IsPersonalDataAccessAllowed="false",
    )
    return ret


def _group(parent: Element, tag: str, **values: str) -> Element:
    group = etree.SubElement(parent, tag)
    for name, value in values.items():
        el.leaf(group, name, value)
    return group
