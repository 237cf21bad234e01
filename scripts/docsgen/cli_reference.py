"""The command-line reference, read from the argument parser itself so that it cannot drift.

Every subcommand of ``nnscratch.cli.build_parser()`` becomes a section, every argument group
a table, every flag a row: its names, the value it takes, its default and its help text
(with ``%(default)s`` filled in, as ``--help`` prints it).

argparse keeps the subcommands and groups in attributes with a leading underscore; they have
been stable for as long as argparse has existed, and reading them is the only way to walk a
parser without re-declaring its flags.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from nnscratch.cli import build_parser
from nnscratch.convolutional.recipes import Recipe

from .markdown import table

RECIPE_FIELDS = {field.name for field in fields(Recipe)}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers of ``parser``, by name, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every argument of ``parser`` a user can give, --help excluded."""
    return [action for action in parser._actions if not isinstance(action, argparse._HelpAction)]


def flag_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string ``parser`` accepts (``--epochs``, ``-h`` ...)."""
    return {name for action in parser._actions for name in action.option_strings}


def from_recipe(action: argparse.Action) -> bool:
    """True for a flag of ``nnscratch train`` whose default is left to the architecture's recipe
    (argparse's default is None then, and ``--help`` prints "None")."""
    return action.default is None and action.dest in RECIPE_FIELDS


def expanded_help(action: argparse.Action, prog: str) -> str:
    """The help text as ``--help`` shows it, %(default)s and %(choices)s filled in; a recipe's default is named so."""
    if not action.help:
        return ""
    values = dict(vars(action), prog=prog)
    if prog.endswith(" train") and from_recipe(action):
        values["default"] = "the architecture's recipe"
    if action.choices is not None:
        values["choices"] = ", ".join(str(choice) for choice in action.choices)
    return action.help % values


def value_column(action: argparse.Action) -> str:
    """What follows the flag: one of the choices, its metavar, or nothing for a switch or a positional."""
    if action.nargs == 0:
        return "(switch)"
    if not action.option_strings:
        return ""
    if action.choices is not None and action.metavar is None:
        return " | ".join(f"`{choice}`" for choice in action.choices)
    return f"`{action.metavar or action.dest.upper()}`"


def default_column(action: argparse.Action, prog: str) -> str:
    if prog.endswith(" train") and from_recipe(action):
        return "recipe"
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, []):
        return ""
    if isinstance(action.default, (list, tuple)):
        return "`" + ",".join(str(value) for value in action.default) + "`"
    return f"`{action.default}`"


def names_column(action: argparse.Action) -> str:
    if action.option_strings:
        return ", ".join(f"`{name}`" for name in action.option_strings)
    return f"`{action.metavar or action.dest}` (positional)"


def usage(name: str, parser: argparse.ArgumentParser) -> str:
    positionals = [action.metavar or action.dest for action in parser._actions if not action.option_strings]
    has_options = any(action.option_strings for action in documented_actions(parser))
    return " ".join(["nnscratch", name, *positionals, *(["[options]"] if has_options else [])])


def command_section(name: str, parser: argparse.ArgumentParser) -> str:
    """One subcommand: what it does, its usage and a table per argument group."""
    lines = [f"## `nnscratch {name}`", "", parser.description or "", "", f"    {usage(name, parser)}", ""]
    for group in parser._action_groups:
        actions = [action for action in group._group_actions if not isinstance(action, argparse._HelpAction)]
        if not actions:
            continue
        title = group.title if group.title not in ("options", "optional arguments") else "options"
        rows = [
            (
                names_column(action),
                value_column(action),
                default_column(action, parser.prog),
                expanded_help(action, parser.prog),
            )
            for action in actions
        ]
        lines += [f"**{title}**", "", table(["flag", "value", "default", "what it does"], rows), ""]
    return "\n".join(lines)


def cli_reference() -> str:
    """The whole reference: an overview table, then one section per subcommand."""
    parser = build_parser()
    commands = subcommands(parser)
    overview = table(
        ["command", "what it does"],
        [(f"[`nnscratch {name}`](#nnscratch-{name})", sub.description) for name, sub in commands.items()],
    )
    sections = [command_section(name, sub) for name, sub in commands.items()]
    return "\n\n".join([overview, *sections])
