"""Turn the analytics' frozen dataclass trees into plain JSON types.

`dataclasses.asdict` keeps tuples and numpy scalars; the reports promise lists, str, int, float, bool
and None only, so that `json.dumps` works without a custom encoder and another tool reads exactly
what the page shows. A NaN or infinity is not a number JSON can carry and becomes None.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """The value as plain JSON types (recursing into dataclasses, mappings and sequences)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        as_dict = getattr(value, "as_dict", None)
        if as_dict is not None:
            return as_dict()
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def fields_dict(value: Any) -> dict[str, Any]:
    """A dataclass's own fields as plain JSON types (for `as_dict` methods to call)."""
    return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
