"""The Jinja sandbox campaign templates run in, with bounds on what one render may cost.

Jinja's own sandbox stops templates from reaching Python internals but not from spending the
server: ``{{ 9**(9**7) }}`` pins a CPU, ``{{ "x" * 20000000 }}`` fills memory, and nested loops
over a long string never end. Here every way a template can grow a value or spend time is
bounded:

- ``**``, ``*``, ``+`` and ``%`` are intercepted: no integer beyond ``MAX_INT_BITS``, no string
  or list beyond ``MAX_SEQUENCE`` items, no format width beyond four digits;
- every call (methods, macros) and every filter is checked before it runs: integer arguments at
  most ``MAX_INT_ARG``, no two arguments whose sizes multiply past ``MAX_PRODUCT`` (``replace``,
  ``join`` and ``center`` grow that way), no nested lists;
- each loop step, call and filter counts against ``MAX_STEPS`` and the render's deadline
  (``RENDER_SECONDS``); ``~`` joins are bounded like ``+``;
- only text and numbers are printed, and the output stops at ``MAX_OUTPUT`` characters;
- the only global is ``range``.

Going over a bound raises ``TemplateLimit`` naming it. A legitimate template is far inside all
of them (a few hundred steps, a few thousand characters).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

MAX_OUTPUT = 100_000
MAX_SEQUENCE = 100_000
MAX_PRODUCT = 1_000_000
MAX_INT_BITS = 1024
MAX_INT_ARG = 10_000
MAX_STEPS = 20_000
RENDER_SECONDS = 0.1
# A width or precision of five digits or more in a format string ("{:>99999}", "%99999s").
_WIDE_FORMAT = re.compile(r"\d{5,}")
_PRINTABLE = (str, int, float, bool, type(None))
_SIZED = (str, list, tuple, dict, set, frozenset)
_LOOP = "aw_bounded_loop"
_CONCAT = "aw_bounded_concat"


class TemplateLimit(Exception):
    """A template went over one of the render bounds; the message says which."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def render_budget(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Bound the renders inside the block by ``seconds`` and ``MAX_STEPS`` steps."""
    token = _budget.set(_Budget(time.monotonic() + seconds))
    try:
        yield
    finally:
        _budget.reset(token)


def _step() -> None:
    budget = _budget.get()
    if budget is None:  # compile-time constant folding: sizes are still checked
        return
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise TemplateLimit(f"too much work: over {MAX_STEPS} loop steps and calls")
    if time.monotonic() > budget.deadline:
        raise TemplateLimit(f"took longer than {RENDER_SECONDS:g} s to render")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, _SIZED) else None


def _check_sequence(length: int) -> None:
    if length > MAX_SEQUENCE:
        raise TemplateLimit(f"text or list longer than {MAX_SEQUENCE} items")


def _check_int(value: Any) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"number larger than {MAX_INT_BITS} bits")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _WIDE_FORMAT.search(text):
        raise TemplateLimit("format width or precision of more than four digits")


def _check_arguments(name: str, values: Iterable[Any]) -> None:
    """Refuse arguments that could make a call's result huge before the call runs."""
    sizes = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT_ARG:
            raise TemplateLimit(f"argument {value} to '{name}' is over {MAX_INT_ARG}")
        size = _size(value)
        if size is None:
            continue
        sizes.append(size)
        if isinstance(value, (list, tuple, set, frozenset)) and any(
                isinstance(item, _SIZED) and not isinstance(item, str) for item in value):
            raise TemplateLimit("nested lists are not allowed in templates")
        if name in ("format", "format_map"):
            _check_format(value)
    sizes.sort(reverse=True)
    if len(sizes) >= 2 and sizes[0] * sizes[1] > MAX_PRODUCT:
        raise TemplateLimit(f"'{name}' on arguments this long could exceed {MAX_PRODUCT} items")


def _check_result(value: Any) -> Any:
    size = _size(value)
    if size is not None:
        _check_sequence(size)
    _check_int(value)
    return value


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _step()
        values = [a for a in args if not isinstance(a, Context)] + list(kwargs.values())
        _check_arguments(name, values)
        return _check_result(function(*args, **kwargs))

    return guarded


def _bounded_loop(iterable: Any) -> Iterator[Any]:
    for item in iterable:
        _step()
        yield item


def _printable(value: Any) -> Any:
    if not isinstance(value, _PRINTABLE):
        raise TemplateLimit(f"only text and numbers can be printed, not {type(value).__name__}")
    return _check_result(value)


def _bounded_concat(*parts: Any) -> str:
    for part in parts:
        _printable(part)
    text = "".join(str(part) for part in parts)
    _check_sequence(len(text))
    return text


class _Bounder(NodeTransformer):
    """Rewrites the parsed template: loops step the budget, ``~`` joins are length-checked."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        node = self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name(_LOOP, "load"), [node.iter], [], None, None,
                               lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        node = self.generic_visit(node)
        return nodes.Call(nodes.Name(_CONCAT, "load"), list(node.nodes), [], None, None,
                          lineno=node.lineno)


def _power(left: Any, right: Any) -> Any:
    if (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
            and right * math.log2(abs(left)) > MAX_INT_BITS):
            raise TemplateLimit(f"number larger than {MAX_INT_BITS} bits")
    return left**right


def _times(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        if _size(seq) is not None and isinstance(count, int):
            _check_sequence(_size(seq) * max(count, 0))  # type: ignore[operator]
    if (isinstance(left, int) and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1):
            raise TemplateLimit(f"number larger than {MAX_INT_BITS} bits")
    return left * right


def _plus(left: Any, right: Any) -> Any:
    if _size(left) is not None and _size(right) is not None:
        _check_sequence(_size(left) + _size(right))  # type: ignore[operator]
    return _check_result(left + right)


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _check_format(left)
        _check_arguments("%", [left, *(right if isinstance(right, tuple) else (right,))])
        return _check_result(left % right)
    return left % right


class BoundedEnvironment(SandboxedEnvironment):
    """A ``SandboxedEnvironment`` whose renders are bounded (see the module docstring).

    Render inside ``render_budget()`` for the time and step bounds; size bounds hold always.
    """

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_printable, **options)
        self.binop_table.update({"**": _power, "*": _times, "+": _plus, "%": _modulo})
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}
        # No lipsum (one call makes megabytes), no namespace (a loop could double a list
        # through it); range is bounded by the argument check.
        self.globals = {"range": self.globals["range"], _LOOP: _bounded_loop,
                        _CONCAT: _bounded_concat}

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        bounded = _Bounder().visit(source)
        return super()._generate(bounded, name, filename, defer_init=defer_init)

    def call(__self, __context: Context, __obj: Any,  # Jinja's own signature
             *args: Any, **kwargs: Any) -> Any:
        _step()
        if __obj not in (_bounded_loop, _bounded_concat):
            bound = getattr(__obj, "__self__", None)
            _check_arguments(getattr(__obj, "__name__", "call"),
                             [bound, *args, *kwargs.values()])
        return _check_result(super().call(__context, __obj, *args, **kwargs))


def render_bounded(generated: Iterable[str]) -> str:
    """Join a template's output stream, stopping at ``MAX_OUTPUT`` characters."""
    out: list[str] = []
    total = 0
    for chunk in generated:
        total += len(chunk)
        if total > MAX_OUTPUT:
            raise TemplateLimit(f"output longer than {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)

