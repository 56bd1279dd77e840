"""Protobuf requests whose only fault is text that is not UTF-8.

Protobuf's ``string`` fields must hold UTF-8, and the parser refuses a whole message over one bad byte: a
client whose span name or attribute value carries a stray Latin-1 byte (an SDK that passes raw bytes through,
as Go's and C++'s may) lost every span of its request to a 400 it does not retry. Such a body is parsed again
with every string field read as bytes (the same messages, built from a copy of their descriptors in a pool of
their own), the bytes that are not UTF-8 are replaced by U+FFFD (Python's ``errors="replace"``), and the
repaired body is what the receiver decodes and keeps. Fields that are bytes by the schema (ids) are not
touched. The answer tells the client in ``partial_success`` (0 rejected and a message: a warning, in OTLP's
terms).
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

_STRING, _BYTES = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES


def _as_bytes(message: descriptor_pb2.DescriptorProto, prefix: str, texts: set[tuple[str, str]]) -> None:
    """Every string field of ``message`` (and of its nested messages) made bytes, noted in ``texts``."""
    name = f"{prefix}.{message.name}" if prefix else message.name
    for field in message.field:
        if field.type == _STRING:
            field.type = _BYTES
            texts.add((name, field.name))
    for nested in message.nested_type:
        _as_bytes(nested, name, texts)


@functools.cache
def _lenient(descriptor: Descriptor) -> tuple[Any, frozenset[tuple[str, str]]]:
    """The message class of ``descriptor`` with string fields read as bytes, and those fields
    ((message full name, field name))."""
    pool = descriptor_pool.DescriptorPool()
    texts: set[tuple[str, str]] = set()
    added: set[str] = set()

    def add(file: Any) -> None:
        if file.name in added:
            return
        for dependency in file.dependencies:
            add(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        for message in proto.message_type:
            _as_bytes(message, proto.package, texts)
        pool.Add(proto)
        added.add(file.name)

    add(descriptor.file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(descriptor.full_name)), frozenset(texts)


def _repair(message: Any, texts: frozenset[tuple[str, str]]) -> int:
    """Replace the bytes that are not UTF-8 in the text fields of ``message`` (in place); how many fields."""
    repaired = 0
    for field, value in message.ListFields():
        repeated = not isinstance(value, (bytes, Message))  # a container (protobuf 5 and 7 name it differently)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in (value if repeated else (value,)):
                repaired += _repair(item, texts)
        elif (field.containing_type.full_name, field.name) in texts:
            values = list(value) if repeated else [value]
            fixed = [v.decode("utf-8", "replace").encode() for v in values]
            if fixed != values:
                repaired += sum(a != b for a, b in zip(fixed, values, strict=True))
                if repeated:
                    del value[:]
                    value.extend(fixed)
                else:
                    setattr(message, field.name, fixed[0])
    return repaired


def repair(body: bytes, message_class: Any) -> tuple[bytes, int] | None:
    """``body`` (which ``message_class`` refused) with the text that is not UTF-8 repaired, and how many
    fields were; None when it does not parse even so (it is not a message of that class)."""
    lenient_class, texts = _lenient(message_class.DESCRIPTOR)
    lenient = lenient_class()
    try:
        lenient.ParseFromString(body)
    except (DecodeError, ValueError, RecursionError):
        return None
    repaired = _repair(lenient, texts)
    if not repaired:
        return None
    return lenient.SerializeToString(), repaired


def warning(repaired: int) -> str:
    """The answer's note about a repaired request."""
    return (f"{repaired} text field{'s' if repaired != 1 else ''} held bytes that are not UTF-8: stored with "
            f"those bytes replaced by U+FFFD")
