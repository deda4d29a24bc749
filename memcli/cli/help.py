"""Help in plain words: `--glob GLOB`, `PATHS...`, `--mode hybrid|bm25|dense|graph`.

Typer 0.29 labels every value with its Python annotation (`<bool>`, `<list[Path]>`,
`{paths}`), which reads as code to someone who only wants to know what to type. Flags take
no value, so they get no label; a value is named in capitals, as man pages and click do;
choices stay as the list. Typer is pinned to 0.29.x (pyproject), whose hooks these are; if
they move, help falls back to Typer's own labels (tests/cli/test_help.py notices).
"""

from __future__ import annotations

from pathlib import Path

WORDS = {str: "TEXT", int: "N", float: "NUMBER", Path: "PATH", bool: "BOOL"}


def _label(param, ctx, original) -> str:
    if getattr(param, "is_flag", False):
        return ""  # a flag takes no value
    from typer.core import TyperArgument

    if isinstance(param, TyperArgument) and not param.type_descriptor.is_choice:
        return ""  # the name column already says PATHS...
    desc = param.type_descriptor
    if desc.is_choice:
        label = original(param, ctx).strip("<>")
        return label[5:-1] if label.startswith("list[") else label
    if param.metavar:
        return param.metavar
    ann = desc.annotation
    if desc.is_list:
        from typing import get_args

        args = get_args(ann)
        ann = args[0] if args else str
    word = WORDS.get(ann, "VALUE")
    name = (param.name or "").upper().replace("_", "-")
    # A named value reads better than its type where the name says more ("GLOB", "SINCE").
    return name if word in ("TEXT", "PATH") and name and name != "JSON_" else word


def install() -> None:
    try:
        from typer.core import TyperArgument, _TyperParameter
    except ImportError:  # a Typer without these hooks: keep its own labels
        return
    original = _TyperParameter.display_type
    if getattr(original, "_plain", False):
        return

    def display_type(self, ctx):
        return _label(self, ctx, original)
    display_type._plain = True
    _TyperParameter.display_type = display_type

    def rich_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def usage_name(self) -> str:
        name = rich_name(self)
        return name if self.required else f"[{name}]"
    TyperArgument.display_name_raw = property(lambda self: (self.metavar or self.name or "").upper())
    TyperArgument._rich_display_name = rich_name
    TyperArgument._usage_display_name = usage_name


def complete_path(incomplete: str) -> list[str]:
    """Files and directories for PATH arguments, in every shell Typer supports (its zsh
    and fish scripts do not fall back to the shell's own file completion)."""
    import glob
    import os

    base = os.path.expanduser(incomplete)
    out = []
    for p in sorted(glob.glob(glob.escape(base) + "*"))[:200]:
        shown = incomplete + p[len(base):] if p.startswith(base) else p
        out.append(shown + "/" if os.path.isdir(p) else shown)
    return out
