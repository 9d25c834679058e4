"""What an optimizer may be given as parameters, checked with errors that say the fix."""

from __future__ import annotations

import inspect
from typing import List

import tinygrad_value as tv

WHERE = ("a Module's parameters are the Values stored in its attributes (directly, or in "
         "Modules, lists, tuples or dicts there); names starting with '_' are skipped")


def as_parameters(params, who: str) -> List[tv.Value]:
    """``params`` as a list of distinct Values: an iterable of Values, or a Module (its
    ``parameters()``). Anything else raises, naming the mistake and the fix."""
    from .module import Module

    if isinstance(params, Module):
        found = params.parameters()
        if not found:
            raise ValueError(f"{who}: {type(params).__name__} has no parameters to optimize: "
                             f"{WHERE}")
        return found
    if inspect.ismethod(params) or callable(params) and not hasattr(params, "__iter__"):
        raise TypeError(f"{who}: got the function {getattr(params, '__name__', params)!r} "
                        f"itself; call it: {who}(model.parameters(), ...)")
    if isinstance(params, tv.Value):
        raise TypeError(f"{who}: got one Value; pass a list of them: {who}([v], ...)")
    try:
        out = list(params)
    except TypeError:
        raise TypeError(f"{who}: parameters must be a list of Values (model.parameters()), "
                        f"got {type(params).__name__}") from None
    if not out:
        raise ValueError(f"{who} got an empty parameter list (if it came from "
                         f"model.parameters(): {WHERE})")
    seen = {}
    for i, p in enumerate(out):
        if not isinstance(p, tv.Value):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Value")
        if id(p) in seen:
            raise ValueError(f"{who}: parameter {i} is the same Value as parameter "
                             f"{seen[id(p)]}; each would be stepped twice")
        seen[id(p)] = i
    return out
