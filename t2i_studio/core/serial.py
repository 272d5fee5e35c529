"""Frozen dataclasses <-> plain JSON data, nested, by their type hints.

``to_data`` turns a dataclass (with nested dataclasses, tuples of them, optionals) into dicts and
lists; ``from_data`` rebuilds it, field by field, from the annotations: unknown keys (from newer
versions) are ignored, missing ones take their defaults, and a value of the wrong shape is a
``ValueError`` naming the field. Value ranges are the requests' ``validate()``'s business.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    return value


def from_data(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` (a dataclass) from ``data`` as ``to_data`` wrote it."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"{where or cls.__name__} must be an object, got {type(data).__name__}.")
    hints = _hints(cls)
    prefix = f"{where}." if where else ""
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.init and f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name], prefix + f.name)
    return cls(**kwargs)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value, where) if len(options) == 1 else value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where} must be a list, got {type(value).__name__}.")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_convert(item, v, f"{where}[{k}]") for k, v in enumerate(value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_data(hint, value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
