"""The committed generated code is what `make proto` would produce from proto/ now."""

from __future__ import annotations

import filecmp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_proto import OUT_DIR, generate


def _differences(left: Path, right: Path) -> list[str]:
    comparison = filecmp.dircmp(left, right, ignore=["__pycache__"])
    found = [f"only in generated: {n}" for n in comparison.left_only]
    found += [f"only in committed: {n}" for n in comparison.right_only]
    found += [f"differs: {n}" for n in comparison.diff_files]
    for name, sub in comparison.subdirs.items():
        found += [f"{name}/{d}" for d in _differences(Path(sub.left), Path(sub.right))]
    return found


def test_generated_protobuf_code_is_up_to_date(tmp_path: Path) -> None:
    generate(tmp_path)
    stale = _differences(tmp_path / "crm", OUT_DIR / "crm")
    assert not stale, f"generated code is stale; run `make proto`: {stale}"
