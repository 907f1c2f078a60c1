"""Build step of the Dockerfile: the registry's entry for SERVICE.

`component.py SERVICE` prints "<folder> <package>"; `component.py SERVICE --launcher PATH`
writes the image's entry point, a script that runs the package as `python -m` does.
"""

import sys
import tomllib

REGISTRY = "libs/crmkit/src/crmkit/components.toml"
LAUNCHER = '''#!/opt/keyuan/bin/python
"""Runs this image's component, as `python -m {package}` does."""
import runpy

runpy.run_module("{package}", run_name="__main__", alter_sys=True)
'''


def main(argv: list[str]) -> None:
    with open(REGISTRY, "rb") as registry:
        components = tomllib.load(registry)["components"]
    name = argv[0]
    if name not in components:
        sys.exit(f"SERVICE must be one of {sorted(components)} (got {name!r})")
    entry = components[name]
    if argv[1:2] == ["--launcher"]:
        with open(argv[2], "w") as launcher:
            launcher.write(LAUNCHER.format(package=entry["package"]))
    else:
        print(entry["path"], entry["package"])


if __name__ == "__main__":
    main(sys.argv[1:])
