"""The compression options are declared once, from the method tables, for `run` and `sweep`."""
import argparse

import pytest

from audiomarathon.cli import build_parser
from audiomarathon.methods import METHODS, method_kind, method_names
from audiomarathon_runner.compression import (PRESSES, PRUNERS, CompressionConfig, add_compression_arguments,
                                              config_from_args)


def test_method_table_is_the_union_of_pruners_and_presses():
    """The torch-free table of names is the implementations' tables: every pruner and press is
    named there with its kind, in the same order, and nothing else is."""
    assert method_names() == ["none", *PRUNERS, *PRESSES]
    assert not set(PRUNERS) & set(PRESSES)
    assert {method_kind(m) for m in PRUNERS} == {"prune"} and {method_kind(m) for m in PRESSES} == {"press"}


def test_checking_a_method_imports_no_implementation():
    """--method is checked against the table alone: a refused command never loads torch."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from audiomarathon.cli import main\n"
            "try:\n"
            "    main(['run', '--model', 'm', '--data', 'd', '--out', 'o', '--method', 'bogus'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(sorted(m for m in ('torch', 'numpy', 'transformers', 'kvpress') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "invalid choice: 'bogus'" in out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_run_and_sweep_take_the_same_compression_options(command):
    parser, _ = build_parser(command)
    actions = {a.dest: a for a in parser._actions}
    reference = argparse.ArgumentParser()
    add_compression_arguments(reference, sweep=command == "sweep")
    for action in reference._actions:
        if action.dest == "help":
            continue
        ours = actions[action.dest]
        if action.dest == "press_scope":  # its default is the --profile's, resolved after parsing
            assert (ours.option_strings, ours.default, ours.choices) == (action.option_strings, None, action.choices)
            assert ours.help.startswith(action.help) and "default: the --profile's" in ours.help
            continue
        assert (ours.option_strings, ours.default, ours.choices, ours.help) == (
            action.option_strings, action.default, action.choices, action.help)
    for dest in ("layer", "seed", "press_scope"):
        assert dest in actions


@pytest.mark.parametrize("method", method_names())
def test_method_choice_and_help_come_from_the_tables(method):
    parser, _ = build_parser("run")
    (action,) = [a for a in parser._actions if a.dest == "method"]
    assert method in action.choices
    assert f"{method}: " in action.help
    assert METHODS[method].summary in action.help


def test_unknown_method_is_refused_naming_the_option(capsys):
    parser, _ = build_parser("run")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--model", "m", "--data", "d", "--out", "o", "--method", "nonsense"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--method" in err and "nonsense" in err and "fastv" in err


def test_config_from_sweep_options():
    parser = argparse.ArgumentParser()
    add_compression_arguments(parser, sweep=True)
    args = parser.parse_args(["--methods", "fastv,snapkv", "--layer", "3", "--press-scope", "all"])
    assert config_from_args(args, method="snapkv", ratio=0.25) == CompressionConfig(
        "snapkv", 0.25, layer=3, press_scope="all")


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("profile, scope", [(None, "audio"), ("card", "audio"), ("authors", "all")])
def test_press_scope_defaults_to_the_profiles_and_an_explicit_one_wins(command, profile, scope):
    from audiomarathon_runner.commands.options import resolve_profile_defaults

    parser, _ = build_parser(command)
    base = ["--model", "m", "--data", "d", "--out", "o"] + (["--profile", profile] if profile else [])
    args = parser.parse_args(base)
    resolve_profile_defaults(args)
    assert args.press_scope == scope
    args = parser.parse_args(base + ["--press-scope", "audio" if scope == "all" else "all"])
    resolve_profile_defaults(args)
    assert args.press_scope != scope


def test_method_none_with_a_ratio_is_refused_in_python_too():
    with pytest.raises(ValueError, match="ratio 0.9 with method 'none'"):
        CompressionConfig(method="none", ratio=0.9)
    assert CompressionConfig(method="none", ratio=0.0).ratio == 0.0
