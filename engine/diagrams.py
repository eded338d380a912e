"""Reading diagram files safely and turning them into SpiffWorkflow specs.

Every diagram, shipped or uploaded, is parsed from bytes here with entity resolution,
DTD loading and network access off, and checked against the BPMN/DMN schemas before the
library sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import N_, DiagramError

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _safe_xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse_xml(data: bytes | str, filename: str) -> etree._Element:
    """Parse one diagram file; a DTD, entity or malformed XML is refused with a clear message."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramError(
            N_("the file is larger than %(mb)s MB"),
            file=filename,
            params={"mb": MAX_DIAGRAM_BYTES // 1024 // 1024},
        )
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise DiagramError(
            N_("document type declarations and entities are not allowed in diagrams"), file=filename
        )
    try:
        root = etree.fromstring(data, _safe_xml_parser())
    except etree.XMLSyntaxError as err:
        raise DiagramError(
            N_("the file is not well-formed XML: %(err)s"),
            file=filename,
            line=err.lineno,
            params={"err": err.msg},
        ) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise DiagramError(
            N_("document type declarations are not allowed in diagrams"), file=filename
        )
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise DiagramError(
                N_("entities are not allowed in diagrams"), file=filename, line=node.sourceline
            )
    return root


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    spec: object
    subprocess_specs: dict[str, Any]


def parse_process(
    files: Mapping[str, bytes | str], process_id: str, validate: bool = True
) -> ParsedProcess:
    """Parse the .bpmn and .dmn files of one process version into specs."""
    parser = SpiffBpmnParser(validator=VALIDATOR if validate else None)
    bpmn_roots: dict[str, etree._Element] = {}
    for name in sorted(files):
        root = parse_xml(files[name], name)
        try:
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            elif name.endswith(".bpmn"):
                parser.add_bpmn_xml(root, filename=name)
                bpmn_roots[name] = root
            else:
                raise DiagramError(N_("only .bpmn and .dmn files can be deployed"), file=name)
        except ValidationException as err:
            raise DiagramError(
                N_("the diagram does not follow the BPMN schema: %(err)s"),
                params={"err": _first_line(err)},
                element_id=getattr(err, "id", None) or None,
                file=name,
                line=getattr(err, "line_number", None) or None,
            ) from None
    try:
        for name, root in bpmn_roots.items():
            _check_flow_ends(root, name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as err:
        raise DiagramError(
            N_("the diagram cannot be read: %(err)s"),
            params={"err": _first_line(err)},
            element_id=getattr(err, "id", None) or None,
            file=getattr(err, "file_name", None),
            line=getattr(err, "line_number", None) or None,
        ) from None
    except (SpiffWorkflowException, KeyError, ValueError) as err:
        raise DiagramError(
            N_("the diagram cannot be read: %(err)s"), params={"err": _first_line(err)}
        ) from None
    return ParsedProcess(process_id, spec, subprocess_specs)


def _check_flow_ends(root: etree._Element, filename: str) -> None:
    """Name a sequence flow's missing source or target (the library's own message hides it)."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if target not in ids:
            raise DiagramError(
                N_("the sequence flow '%(flow)s' leads to '%(target)s', which does not exist"),
                params={"flow": flow.get("id"), "target": target},
                element_id=source if source in ids else flow.get("id"),
                file=filename,
                line=flow.sourceline,
            )
        if source not in ids:
            raise DiagramError(
                N_("the sequence flow '%(flow)s' starts at '%(source)s', which does not exist"),
                params={"flow": flow.get("id"), "source": source},
                element_id=flow.get("id"),
                file=filename,
                line=flow.sourceline,
            )


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
