"""Proto enums as the lower-case words stored in tables and shown in REST:
`LIFECYCLE_STAGE_SIGNED` <-> "signed"; the zero value (`*_UNSPECIFIED`) <-> ""."""

from __future__ import annotations

import re
from typing import Any

from crmkit.errors import InvalidArgument

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


class ProtoEnum:
    def __init__(self, wrapper: Any) -> None:
        # `wrapper` is a generated EnumTypeWrapper (e.g. customer_pb2.LifecycleStage).
        self._wrapper = wrapper
        self.prefix = _WORD_START.sub("_", wrapper.DESCRIPTOR.name).upper() + "_"
        self.words = tuple(name.removeprefix(self.prefix).lower() for name, number in wrapper.items() if number != 0)

    def to_proto(self, word: str) -> int:
        if not word:
            return 0
        return int(self._wrapper.Value(self.prefix + word.upper()))

    def from_proto(self, value: int) -> str:
        if value == 0:
            return ""
        return str(self._wrapper.Name(value)).removeprefix(self.prefix).lower()

    def parse(
        self, value: int, field_name: str, *, default: str | None = None, unknown: str = "unknown value / 未知的取值"
    ) -> str:
        """A request's value as a word; unset gives `default` (None: the field is required)."""
        if value == 0:
            if default is None:
                raise InvalidArgument(field_name, "is required / 必填")
            return default
        if value not in self._wrapper.values():
            raise InvalidArgument(field_name, unknown)
        return self.from_proto(value)
