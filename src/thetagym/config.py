"""Typed, frozen configuration objects loaded from YAML.

Every component's settings are a frozen dataclass. ``build(Type, mapping, source)`` turns a YAML
mapping into that dataclass, rejecting unknown keys (with a "did you mean" suggestion), wrong
types and out-of-range values with a :class:`ConfigError` that names the file, the key and the
value. Bounds and documentation live next to each field through :func:`setting`.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Fees:
...     per_option: float = setting(1.5, ge=0.0, doc="USD per option contract")
>>> build(Fees, {"per_option": 2.0}).per_option
2.0
>>> build(Fees, {"per_opton": 2.0}, source="fees.yaml")
Traceback (most recent call last):
...
thetagym.config.ConfigError: fees.yaml: unknown key 'per_opton' (did you mean 'per_option'?)
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

T = TypeVar("T")
MAX_YAML_CHARACTERS = 10_000_000
"""Longest config file read: hand-written configs are a few kilobytes."""


class ConfigError(ValueError):
    """A configuration file or mapping that cannot be used, with the place that is wrong."""


def setting(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field with inclusive (``ge``, ``le``) or strict (``gt``, ``lt``) bounds."""
    metadata = {"ge": ge, "gt": gt, "le": le, "lt": lt, "doc": doc}
    if isinstance(default, list | dict | tuple) and not isinstance(default, tuple):
        raise TypeError("use a tuple or a default_factory for mutable defaults")
    return dataclasses.field(default=default, metadata=metadata)


def nested(factory: Any, *, doc: str = "") -> Any:
    """A dataclass field holding another config object, built from its defaults."""
    return dataclasses.field(default_factory=factory, metadata={"doc": doc})


def suggest(name: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _where(source: str, key: str) -> str:
    if source and key:
        return f"{source}: key {key!r}"
    return source or (f"key {key!r}" if key else "config")


def build(cls: type[T], data: Any, source: str = "", prefix: str = "") -> T:
    """Build the frozen dataclass ``cls`` from a mapping, checking keys, types and bounds.

    ``source`` names the file (or other origin) in error messages; ``prefix`` is the dotted key
    path of ``data`` inside it.
    """
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{_where(source, prefix)}: expected a mapping of settings for {cls.__name__}, "
            f"got {type(data).__name__} {data!r}"
        )
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, raw in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise ConfigError(
                f"{source + ': ' if source else ''}unknown key {dotted!r}{suggest(str(key), fields)}"
            )
        field = fields[key]
        value = _convert(hints[key], raw, source, dotted)
        _check_bounds(field, value, source, dotted)
        values[key] = value
    missing = [
        name
        for name, f in fields.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        key = f"{prefix}.{missing[0]}" if prefix else missing[0]
        raise ConfigError(f"{_where(source, key)}: required setting is missing")
    try:
        instance = cls(**values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{_where(source, prefix)}: {error}") from None
    return instance


def _convert(hint: Any, raw: Any, source: str, key: str) -> Any:
    origin = get_origin(hint)
    args = get_args(hint)
    where = _where(source, key)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, raw, source, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[-1])
    if origin is Literal:
        if raw not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: {raw!r} is not one of {choices}{suggest(str(raw), map(str, args))}")
        return raw
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, raw, source, key)
    if origin is tuple:
        if not isinstance(raw, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {raw!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], r, source, f"{key}[{i}]") for i, r in enumerate(raw))
        if len(args) != len(raw):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {raw!r}")
        return tuple(
            _convert(a, r, source, f"{key}[{i}]") for i, (a, r) in enumerate(zip(args, raw, strict=True))
        )
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
        key_type, value_type = args if args else (str, Any)
        return {
            _convert(key_type, k, source, key): _convert(value_type, v, source, f"{key}.{k}")
            for k, v in raw.items()
        }
    if hint is Any:
        return raw
    if hint is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: expected true or false, got {raw!r}")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            raise ConfigError(f"{where}: expected a whole number, got {raw!r}")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ConfigError(f"{where}: expected a number, got {raw!r}")
        if not math.isfinite(raw):
            raise ConfigError(f"{where}: expected a finite number, got {raw!r}")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: expected text, got {raw!r}")
        return raw
    if hint is Path:
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: expected a file path, got {raw!r}")
        return Path(raw)
    raise TypeError(f"unsupported config type {hint!r} at {key}")


def _check_bounds(field: dataclasses.Field[Any], value: Any, source: str, key: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    meta = field.metadata
    checks = (
        ("ge", lambda b: value >= b, ">="),
        ("gt", lambda b: value > b, ">"),
        ("le", lambda b: value <= b, "<="),
        ("lt", lambda b: value < b, "<"),
    )
    for name, holds, symbol in checks:
        bound = meta.get(name)
        if bound is not None and not holds(bound):
            raise ConfigError(f"{_where(source, key)}: {value!r} is out of range, must be {symbol} {bound}")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML file holding a mapping, with a clear error for missing or malformed files."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not a YAML text file (byte {error.object[error.start]:#04x} at offset {error.start} "
            "is not UTF-8)"
        ) from None
    if len(text) > MAX_YAML_CHARACTERS:
        raise ConfigError(f"{path}: {len(text):,} characters is too long for a config file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = str(error).replace("\n", " ")
        raise ConfigError(f"{path}: not valid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top, got {type(data).__name__}")
    return data


def load(cls: type[T], path: str | Path) -> T:
    """Load the config object ``cls`` from a YAML file."""
    return build(cls, read_yaml(path), source=str(path))


def to_dict(config: Any) -> Any:
    """A plain, YAML-ready mapping of a config object (tuples become lists)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, tuple | list):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    if isinstance(config, Path):
        return str(config)
    return config


def dump(config: Any) -> str:
    """YAML text of a config object, keys in field order."""
    return yaml.safe_dump(to_dict(config), sort_keys=False)
