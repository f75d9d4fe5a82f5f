"""The service's own WSDL, served at ``GET <AppURL>?wsdl``.

Generated from :data:`reconciler.qbwc.soap.OPERATIONS`, so that what the WSDL
promises is exactly what the server parses and answers: the operations and
element names of Intuit's QBWebConnectorSvc WSDL, plus the three
interactive-mode callbacks of Web Connector 2.0 that it lacks.
"""

from __future__ import annotations

from lxml import etree

from reconciler.qbwc.soap import NAMESPACE, OPERATIONS, XSD, Operation, ResultType

WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
SERVICE_NAME = "QBWebConnectorSvc"
PORT_TYPE = "QBWebConnectorSvcSoap"


def _w(tag: str) -> str:
    return f"{{{WSDL}}}{tag}"


def _s(tag: str) -> str:
    return f"{{{XSD}}}{tag}"


def _sequence(parent: etree._Element, name: str) -> etree._Element:
    element = etree.SubElement(parent, _s("element"), name=name)
    return etree.SubElement(etree.SubElement(element, _s("complexType")), _s("sequence"))


def _types(definitions: etree._Element) -> None:
    schema = etree.SubElement(
        etree.SubElement(definitions, _w("types")),
        _s("schema"),
        elementFormDefault="qualified",
        targetNamespace=NAMESPACE,
    )
    array = etree.SubElement(schema, _s("complexType"), name="ArrayOfString")
    etree.SubElement(
        etree.SubElement(array, _s("sequence")),
        _s("element"),
        minOccurs="0",
        maxOccurs="unbounded",
        name="string",
        nillable="true",
        type="s:string",
    )
    for operation in OPERATIONS.values():
        request = _sequence(schema, operation.name)
        for param in operation.params:
            occurs = "1" if param.is_int else "0"
            etree.SubElement(
                request,
                _s("element"),
                minOccurs=occurs,
                maxOccurs="1",
                name=param.name,
                type="s:int" if param.is_int else "s:string",
            )
        response = _sequence(schema, f"{operation.name}Response")
        result_type = {
            ResultType.STRING: "s:string",
            ResultType.INT: "s:int",
            ResultType.STRINGS: "tns:ArrayOfString",
        }[operation.result]
        etree.SubElement(
            response,
            _s("element"),
            minOccurs="1" if operation.result is ResultType.INT else "0",
            maxOccurs="1",
            name=operation.result_element,
            type=result_type,
        )


def _messages(definitions: etree._Element, operation: Operation) -> None:
    for suffix, element in (("SoapIn", operation.name), ("SoapOut", f"{operation.name}Response")):
        message = etree.SubElement(definitions, _w("message"), name=f"{operation.name}{suffix}")
        etree.SubElement(message, _w("part"), name="parameters", element=f"tns:{element}")


def _binding_operation(binding: etree._Element, operation: Operation) -> None:
    element = etree.SubElement(binding, _w("operation"), name=operation.name)
    etree.SubElement(
        element,
        f"{{{WSDL_SOAP}}}operation",
        soapAction=operation.soap_action,
        style="document",
    )
    for direction in ("input", "output"):
        etree.SubElement(
            etree.SubElement(element, _w(direction)), f"{{{WSDL_SOAP}}}body", use="literal"
        )


def render_wsdl(address: str) -> bytes:
    """The WSDL with its ``soap:address`` set to ``address`` (the served URL)."""
    definitions = etree.Element(
        _w("definitions"),
        nsmap={"wsdl": WSDL, "soap": WSDL_SOAP, "s": XSD, "tns": NAMESPACE},
        targetNamespace=NAMESPACE,
    )
    _types(definitions)
    for operation in OPERATIONS.values():
        _messages(definitions, operation)
    port_type = etree.SubElement(definitions, _w("portType"), name=PORT_TYPE)
    for operation in OPERATIONS.values():
        element = etree.SubElement(port_type, _w("operation"), name=operation.name)
        etree.SubElement(element, _w("input"), message=f"tns:{operation.name}SoapIn")
        etree.SubElement(element, _w("output"), message=f"tns:{operation.name}SoapOut")
    binding = etree.SubElement(definitions, _w("binding"), name=PORT_TYPE, type=f"tns:{PORT_TYPE}")
    etree.SubElement(
        binding,
        f"{{{WSDL_SOAP}}}binding",
        transport="http://schemas.xmlsoap.org/soap/http",
        style="document",
    )
    for operation in OPERATIONS.values():
        _binding_operation(binding, operation)
    service = etree.SubElement(definitions, _w("service"), name=SERVICE_NAME)
    port = etree.SubElement(service, _w("port"), name=PORT_TYPE, binding=f"tns:{PORT_TYPE}")
    etree.SubElement(port, f"{{{WSDL_SOAP}}}address", location=address)
    return etree.tostring(definitions, xml_declaration=True, encoding="utf-8", pretty_print=True)
