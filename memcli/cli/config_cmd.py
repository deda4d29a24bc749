"""`mem config show|set`: the effective settings and where each came from."""

from __future__ import annotations

from typing import Annotated

import typer

from memcli.cli import render
from memcli.cli.context import config_target, state
from memcli.cli.options import JsonOpt

config_app = typer.Typer(help="Show and change settings (YAML + MEM_* env + flags).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    explain_: Annotated[bool, typer.Option("--explain", help="Say what each setting does, its default and where its value came from.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Print the effective settings, and where each value that is not a default came from."""
    import yaml

    from memcli.config import config_path, explain, home_config_path, load_settings

    flags = {"home": str(state.home) if state.home else None}
    origins: dict[str, str] = {}
    s = load_settings(flags, path=state.config, origins=origins)
    data = s.model_dump(mode="json")
    files = {"user": str(state.config or config_path()), "home": str(home_config_path(flags, path=state.config))}
    rows = []
    if explain_:
        for key, default, what in explain():
            value = data
            for part in key.split("."):
                value = value[part]
            rows.append({"key": key, "value": value, "default": default if key != "home" else None,
                         "from": origins.get(key, "default"), "description": what})
    if json_:
        render.emit_json({"config_file": files["user"], "home_config_file": files["home"],
                          "settings": data, "origins": origins, **({"explain": rows} if explain_ else {})})
        return
    if explain_:
        render.out.print(f"# user config: {files['user']}\n# home config: {files['home']}", markup=False)
        for r in rows:
            origin = "" if r["from"] == "default" else f"  [yellow]({render.escape(r['from'])})[/yellow]"
            render.out.print(f"[bold]{r['key']}[/bold] = {render.escape(str(r['value']))}{origin}")
            render.out.print(f"    [dim]{render.escape(r['description'])}[/dim]")
        return
    render.out.print(f"# user config: {files['user']}", markup=False)
    render.out.print(f"# home config: {files['home']} (wins over the user config)", markup=False)
    for line in yaml.safe_dump(data, sort_keys=False).rstrip().splitlines():
        render.out.print(line, markup=False)
    if origins:
        render.out.print("# not defaults:", markup=False)
        for k, where in sorted(origins.items()):
            render.out.print(f"#   {k}: {where}", markup=False)


GlobalOpt = Annotated[bool, typer.Option("--global", help="Write the user's config file, not this home's.")]


@config_app.command("set", context_settings={"ignore_unknown_options": True})  # values like -5
def config_set(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. search.fusion")],
    value: Annotated[str, typer.Argument(help="New value (YAML scalar)")],
    global_: GlobalOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Write one setting (validated first) to this home's config.yaml when a home is chosen
    (--home or MEM_HOME), else to the user's config file."""
    from memcli.config import set_config_value

    path = set_config_value(key, value, path=config_target(global_))
    if json_:
        render.emit_json({"config_file": str(path), "key": key, "value": value})
    else:
        render.out.print(f"{key} = {value}  [dim]({path})[/dim]")
