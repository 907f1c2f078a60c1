"""Generate Python messages, gRPC stubs and .pyi stubs from proto/ into libs/crm-proto/src."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "libs" / "crm-proto" / "src"


def generate(out_dir: Path) -> None:
    """Write the generated package for every .proto under proto/ into out_dir."""
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    plugin_dir = Path(sys.executable).parent
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        f"--plugin=protoc-gen-mypy={plugin_dir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={plugin_dir / 'protoc-gen-mypy_grpc'}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Packages, not namespace packages, so mypy and hatch see them the same way.
    for directory in [out_dir / "crm", *(p for p in (out_dir / "crm").rglob("*") if p.is_dir())]:
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
    (out_dir / "crm" / "py.typed").write_text("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    target = args.out / "crm"
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(Path(tmp) / "crm", target)


if __name__ == "__main__":
    main()
