"""The registry of deployable components (components.toml beside this module), read once.

`python -m crmkit.components <what>` prints one list for the Makefile and the Dockerfile:
`names`, `paths`, `src-dirs`, `packages`, or `path <name>` / `package <name>`.
"""

from __future__ import annotations

import functools
import os
import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Kind = Literal["grpc", "http"]
REGISTRY_FILE = "components.toml"
# Another registry file for this process and its children (a test's throwaway service).
REGISTRY_ENV = "CRM_COMPONENTS_FILE"
ENTRY_KEYS = frozenset(
    {"package", "path", "kind", "grpc_port", "metrics_port", "http_port", "calls", "consumes", "personal_data"}
)


@dataclass(frozen=True)
class Component:
    name: str
    package: str
    path: str
    kind: Kind
    grpc_port: int = 0
    metrics_port: int = 0
    http_port: int = 0
    calls: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    personal_data: bool = False

    @property
    def env_prefix(self) -> str:
        return f"CRM_{self.name.upper()}_"

    @property
    def src_dir(self) -> str:
        return f"{self.path}/src"


def parse_registry(text: str) -> dict[str, Component]:
    """Components by name, checked: a typo here would otherwise surface as a process that
    never starts."""
    raw = tomllib.loads(text).get("components", {})
    found: dict[str, Component] = {}
    for name, entry in raw.items():
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            raise ValueError(f"component {name}: unknown keys {sorted(unknown)}")
        kind = entry.get("kind")
        if kind not in ("grpc", "http"):
            raise ValueError(f"component {name}: kind must be grpc or http, not {kind!r}")
        if kind == "grpc" and not entry.get("grpc_port"):
            raise ValueError(f"component {name}: a grpc component needs grpc_port")
        if kind == "http" and not entry.get("http_port"):
            raise ValueError(f"component {name}: an http component needs http_port")
        found[name] = Component(
            name=name,
            package=entry["package"],
            path=entry["path"],
            kind=kind,
            grpc_port=int(entry.get("grpc_port", 0)),
            metrics_port=int(entry.get("metrics_port", 0)),
            http_port=int(entry.get("http_port", 0)),
            calls=_names(entry, name, "calls"),
            consumes=_names(entry, name, "consumes"),
            personal_data=bool(entry.get("personal_data", False)),
        )
    for component in found.values():
        missing = [callee for callee in component.calls if found.get(callee) is None or found[callee].kind != "grpc"]
        if missing:
            raise ValueError(f"component {component.name} calls {missing}, which are not gRPC components")
        # Every component runs the kit's relay and consumers (the gateway too), so any may produce.
        strangers = [p for p in component.consumes if p not in found]
        if strangers:
            raise ValueError(f"component {component.name} consumes {strangers}, which are not components")
    return found


def _names(entry: dict[str, object], name: str, key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"component {name}: {key} must be a list of component names, not {value!r}")
    return tuple(value)


def registry() -> dict[str, Component]:
    return _load(os.environ.get(REGISTRY_ENV, ""))


@functools.cache
def _load(path: str) -> dict[str, Component]:
    if path:
        with open(path, encoding="utf-8") as file:
            return parse_registry(file.read())
    return parse_registry(resources.files("crmkit").joinpath(REGISTRY_FILE).read_text(encoding="utf-8"))


def component(name: str) -> Component:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the component registry ({REGISTRY_FILE})") from None


def grpc_components() -> list[Component]:
    return [c for c in registry().values() if c.kind == "grpc"]


def main(argv: list[str]) -> None:
    components = list(registry().values())
    listings = {
        "names": [c.name for c in components],
        "paths": [c.path for c in components],
        "src-dirs": [c.src_dir for c in components],
        "packages": [c.package for c in components],
    }
    if len(argv) == 2 and argv[0] in ("path", "package"):
        print(getattr(component(argv[1]), argv[0]))
    elif len(argv) == 1 and argv[0] in listings:
        print(" ".join(listings[argv[0]]))
    else:
        raise SystemExit(f"usage: python -m crmkit.components {{{'|'.join(listings)}}} | path NAME | package NAME")


if __name__ == "__main__":
    main(sys.argv[1:])
