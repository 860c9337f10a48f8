"""Data access: the rest-xml response parser syncpurge's S3 clients use, which reads a
ListObjectVersions answer in one pass instead of botocore's generic shape walk.

botocore reads every XML answer by walking the model: for each element it strips the
namespace with a regular expression, groups siblings into a dict by name, then dispatches
on the member's type by `getattr`. On a 1,000-entry page that is ~12,000 elements and
~20 ms of CPU, more than anything else a run spends on a page
(tests/benchmarks/bench_listing_cpu.py). `ListingParser` tokenises the body exactly as
botocore does (its own `_parse_xml_string_to_dom`: expat into ElementTree), then reads the
tree with a plan compiled once from the same model shape: one dict lookup per element.

Only ListObjectVersions' output takes that path, and only while its answer is what the
plan knows; anything else (another operation, an element the model doesn't name, a member
repeated where the model has one, a value botocore would refuse) is parsed by botocore's
own code, so its answer and its errors are botocore's to the letter. `ListingParserFactory`
hands the parser to one botocore session (`clients.shared_session`): nothing global changes.

The body is still tokenised twice: botocore's `before-parse` handler for S3 (an error
inside a 200 answer) builds its own tree first, and no supported setting skips it for one
operation; it costs as much as the tokenising here (~5 ms a page).
"""

from __future__ import annotations

import re
import threading
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from botocore.model import ListShape, Shape, StructureShape
from botocore.parsers import ResponseParser, ResponseParserFactory, RestXMLParser

# The output shapes that take the fast path. The plan is compiled from the shape itself,
# so a model that gains a member is read right (or refused, and parsed by botocore).
FAST_SHAPES = frozenset({"ListObjectVersionsOutput"})

# What a member's element is read as. Lists are flattened (one element per item, under
# the list's name), the only form S3's listing answers use.
STRING, BOOLEAN, INTEGER, TIMESTAMP, STRUCTURE = range(5)
_SCALARS = {
    "string": STRING,
    "boolean": BOOLEAN,
    "integer": INTEGER,
    "long": INTEGER,
    "timestamp": TIMESTAMP,
}
# botocore's BaseXMLResponseParser._namespace_re: how it names an element.
_NAMESPACE = re.compile("{.*}")
# Serialization traits the plan does not model: a shape with one is left to botocore.
_UNMODELLED = ("xmlAttribute", "jsonvalue", "payload", "eventstream", "event", "eventpayload")


class _Unsupported(Exception):
    """The answer (or the shape) is not one the plan reads: botocore parses it."""


class _Member(NamedTuple):
    name: str  # the key in the parsed dict
    kind: int  # STRING... STRUCTURE
    is_list: bool
    plan: _Plan | None  # a STRUCTURE's own members


class _Plan:
    """One structure shape, compiled: its members by the local name of their element."""

    def __init__(self, by_name: dict[str, _Member]) -> None:
        self.by_name = by_name
        self.order = tuple(member.name for member in by_name.values())
        # The keys of the last structure read, in the order met and in the shape's order:
        # S3 writes each entry's elements in one order, so it is worked out once a page.
        self.layout: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        # The same, by the element's full tag ('{namespace}Key'), filled as tags are met:
        # a lookup by the tag expat reports saves stripping the namespace per element.
        self.by_tag: dict[str, _Member] = {}

    def resolve(self, tag: str) -> _Member:
        """The member a tag not met before names, by botocore's own rule (`_node_tag`:
        any namespace stripped), so '{ns}Key' and 'Key' are one name to both."""
        member = self.by_name.get(_NAMESPACE.sub("", tag))
        if member is None:
            raise _Unsupported(tag)  # botocore ignores it; we don't guess why it is there
        if len(self.by_tag) < 64:  # bounded: tags come from the answer
            self.by_tag[tag] = member
        return member

    def ordered(self, parsed: dict[str, Any]) -> dict[str, Any]:
        """`parsed` with its keys in the shape's member order, as botocore's are (S3
        writes <Key> first; the model lists ETag first)."""
        keys = tuple(parsed)
        layout = self.layout
        if layout[0] != keys:
            layout = self.layout = (keys, tuple(k for k in self.order if k in parsed))
        order = layout[1]
        return parsed if order == keys else {k: parsed[k] for k in order}


def compile_plan(shape: StructureShape) -> _Plan | None:
    """`shape` as a plan, or None if any member is of a form the plan doesn't read."""
    try:
        return _compile(shape, depth=0)
    except _Unsupported:
        return None


def _compile(shape: Shape, depth: int) -> _Plan:
    if (
        not isinstance(shape, StructureShape)
        or depth > 4
        or shape.is_tagged_union
        or shape.metadata.get("exception")
        or shape.serialization.get("payload")
    ):
        raise _Unsupported(shape.name)
    by_name: dict[str, _Member] = {}
    for name, member_shape in shape.members.items():
        serialization = member_shape.serialization
        location = serialization.get("location")
        if location in ResponseParser.KNOWN_LOCATIONS or serialization.get("eventheader"):
            continue  # read from the headers by botocore's own code, in both paths
        if location is not None or any(serialization.get(t) for t in _UNMODELLED):
            raise _Unsupported(name)
        is_list = isinstance(member_shape, ListShape)
        item = member_shape.member if isinstance(member_shape, ListShape) else member_shape
        if is_list and not serialization.get("flattened"):
            raise _Unsupported(name)
        if item.type_name in _SCALARS:
            member = _Member(name, _SCALARS[item.type_name], is_list, None)
        else:
            member = _Member(name, STRUCTURE, is_list, _compile(item, depth + 1))
        xml_name = _element_name(name, member_shape)
        if xml_name in by_name:
            raise _Unsupported(xml_name)
        by_name[xml_name] = member
    return _Plan(by_name)


def _element_name(name: str, shape: Shape) -> str:
    """The element a member is written as: botocore's `_member_key_name`."""
    if isinstance(shape, ListShape) and shape.serialization.get("flattened"):
        item_name = shape.member.serialization.get("name")
        if item_name is not None:
            return str(item_name)
    return str(shape.serialization.get("name", name))


class ListingParser(RestXMLParser):
    """botocore's RestXMLParser, with a one-pass read of ListObjectVersions' body.

    Everything but the body of a FAST_SHAPES answer (status, headers, ResponseMetadata,
    errors, other operations) is botocore's code, unchanged.
    """

    def _parse_payload(
        self,
        response: dict[str, Any],
        shape: StructureShape,
        member_shapes: dict[str, Shape],
        final_parsed: dict[str, Any],
    ) -> None:
        plan = _plan(shape) if shape.name in FAST_SHAPES else None
        body = response["body"]
        if plan is None or not body:
            self._stock_payload(response, shape, member_shapes, final_parsed)
            return
        # Malformed XML raises here as it would in botocore: it is botocore's tokeniser.
        root = self._parse_xml_string_to_dom(body)  # type: ignore[attr-defined]
        try:
            parsed = self._read(root, plan)
        except Exception:  # _Unsupported, or a value botocore refuses: botocore decides
            self._stock_payload(response, shape, member_shapes, final_parsed)
            return
        final_parsed.update(parsed)

    def _stock_payload(
        self,
        response: dict[str, Any],
        shape: StructureShape,
        member_shapes: dict[str, Shape],
        final_parsed: dict[str, Any],
    ) -> None:
        # botocore's stubs leave out its private methods; this is the one overridden.
        super()._parse_payload(  # type: ignore[misc]
            response, shape, member_shapes, final_parsed
        )

    def _read(self, node: Any, plan: _Plan) -> dict[str, Any]:
        """One structure element as botocore's `_handle_structure` reads it, keys in the
        order of the shape's members as botocore's are."""
        parsed: dict[str, Any] = {}
        by_tag = plan.by_tag
        for child in node:
            member = by_tag.get(child.tag) or plan.resolve(child.tag)
            name, kind, is_list, sub = member
            # An empty element's text is None; botocore reads it as ''. A scalar's own
            # text is all botocore reads of it (children and tail ignored), as here.
            if kind == STRING:
                text = child.text
                value: Any = "" if text is None else text
            elif kind == BOOLEAN:
                value = child.text == "true"
            elif kind == INTEGER:
                value = int(child.text)  # empty: TypeError here, botocore's ValueError next
            elif kind == TIMESTAMP:
                text = child.text
                value = self._timestamp_parser(  # type: ignore[attr-defined]
                    "" if text is None else text
                )
            else:
                value = self._read(child, sub)  # type: ignore[arg-type]
            if is_list:
                items = parsed.get(name)
                if items is None:
                    parsed[name] = [value]
                else:
                    items.append(value)
            elif name in parsed:
                # botocore would read a list of elements here, as no model type: not ours.
                raise _Unsupported(name)
            else:
                parsed[name] = value
        return plan.ordered(parsed)


_plans: WeakKeyDictionary[StructureShape, _Plan | None] = WeakKeyDictionary()
_plans_lock = threading.Lock()


def _plan(shape: StructureShape) -> _Plan | None:
    """The shape's plan, compiled once per shape (each client has its own model)."""
    try:
        return _plans[shape]
    except KeyError:
        with _plans_lock:
            plan = _plans[shape] = compile_plan(shape)
        return plan


class ListingParserFactory(ResponseParserFactory):
    """botocore's parser factory, making a ListingParser for rest-xml (S3) answers.

    A session's clients take their parser from its `response_parser_factory` component;
    registering one of these there changes that session's clients and nothing else.
    """

    def __init__(self) -> None:
        super().__init__()
        self._listing_defaults: dict[str, Any] = {}

    def set_parser_defaults(self, **kwargs: Any) -> None:
        super().set_parser_defaults(**kwargs)
        self._listing_defaults.update(kwargs)

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "rest-xml":
            return ListingParser(**self._listing_defaults)
        return super().create_parser(protocol_name)
