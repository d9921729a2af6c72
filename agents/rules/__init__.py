"""The registry of decision rules.

Every decision an agent makes is a *slot* ("lab.compute_target", "investor.expectation.trend",
...). Each slot has named rules: small pure functions that take plain numbers (an observation)
and return a decision. A scenario picks a rule per slot in its `[rules]` table, by registered
name or by a dotted path to a function in the researcher's own module:

    [rules]
    "lab.compute_target" = "revenue_outlook"          # a registered name
    "lab.funding" = "my_rules.raise_early"            # my_rules.py on the PYTHONPATH

A slot left out of `[rules]` uses the rule registered with `default=True`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Callable

from model.errors import ScenarioError

Rule = Callable[..., object]

_REGISTRY: dict[str, dict[str, Rule]] = {}
_DEFAULTS: dict[str, str] = {}


def rule(slot: str, name: str, default: bool = False) -> Callable[[Rule], Rule]:
    """Register the decorated function as rule `name` for `slot`."""

    def register(fn: Rule) -> Rule:
        _REGISTRY.setdefault(slot, {})[name] = fn
        if default:
            _DEFAULTS[slot] = name
        fn.rule_slot, fn.rule_name = slot, name  # type: ignore[attr-defined]
        return fn

    return register


def _load_all() -> None:
    # Importing the rule modules fills the registry.
    from agents.rules import (  # noqa: F401
        ai_lab_rules,
        chip_vendor_rules,
        cloud_provider_rules,
        investor_rules,
        market_rules,
        power_utility_rules,
    )


def slots() -> dict[str, list[str]]:
    """Every slot with its registered rule names (the default first)."""
    _load_all()
    return {
        slot: sorted(names, key=lambda n: (n != _DEFAULTS.get(slot), n))
        for slot, names in sorted(_REGISTRY.items())
    }


def resolve(slot: str, choice: str | None = None) -> Rule:
    """The function for `slot`: `choice` by name or dotted path, else the slot's default."""
    _load_all()
    if slot not in _REGISTRY:
        raise ScenarioError(f"rules.{slot}: unknown rule slot; expected one of {sorted(_REGISTRY)}")
    name = choice or _DEFAULTS[slot]
    if name in _REGISTRY[slot]:
        return _REGISTRY[slot][name]
    if "." in name or ":" in name:
        module_name, _, attr = name.replace(":", ".").rpartition(".")
        if os.getcwd() not in sys.path:  # a researcher's my_rules.py beside the scenario works as is
            sys.path.append(os.getcwd())
        try:
            fn = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ScenarioError(f"rules.{slot}: cannot import {name!r} ({exc})") from None
        if not callable(fn):
            raise ScenarioError(f"rules.{slot}: {name!r} is not a function")
        _check_signature(slot, name, fn)
        return fn
    raise ScenarioError(
        f"rules.{slot}: unknown rule {name!r}; expected one of {sorted(_REGISTRY[slot])} or a dotted path module.function"
    )


def _check_signature(slot: str, name: str, fn: Rule) -> None:
    """A rule from a dotted path must take what the slot's default rule takes, by position or by
    name (agents call some slots one way, some the other): `os.system` is no compute target."""
    default = _REGISTRY[slot][_DEFAULTS[slot]]
    want = inspect.signature(default)
    params = [p.name for p in want.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    expected = f"expected a function taking {want} like the default rule {_DEFAULTS[slot]!r}"
    if inspect.isbuiltin(fn) or inspect.isclass(fn):  # print, os.system, math.hypot: not a decision rule
        raise ScenarioError(f"rules.{slot}: {name!r} is a built-in, not a rule; {expected}")
    try:
        got = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ScenarioError(f"rules.{slot}: {name!r} has no readable signature; {expected}") from None
    positional = [p for p in want.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    calls = (lambda: got.bind(*range(len(positional)), **{p: 0 for p in params if p not in {q.name for q in positional}}),
             lambda: got.bind(**{p: 0 for p in params}))
    for call in calls:
        try:
            call()
            return
        except TypeError:
            continue
    raise ScenarioError(f"rules.{slot}: {name!r} takes {got}; {expected}")


def validate_rule_choices(choices: dict[str, str]) -> None:
    for slot, name in choices.items():
        resolve(slot, name)


def resolve_all(choices: dict[str, str]) -> dict[str, Rule]:
    """One function per slot, for a model to hold."""
    _load_all()
    return {slot: resolve(slot, choices.get(slot)) for slot in _REGISTRY}
