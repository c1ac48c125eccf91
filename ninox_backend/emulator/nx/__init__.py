"""NX, Ninox's scripting language: the subset the API's ``query`` and ``exec`` serve.

:func:`~.lexer.tokenize` → :func:`~.parser.parse` (an AST of :mod:`.nodes`) →
:class:`~.evaluator.Evaluator` over a :class:`~.evaluator.DataSource`.
"""

from .errors import NxError, NxSyntaxError
from .evaluator import Choice, DataSource, Evaluator, Rec, serialize
from .parser import parse

__all__ = [
    "Choice",
    "DataSource",
    "Evaluator",
    "NxError",
    "NxSyntaxError",
    "Rec",
    "parse",
    "serialize",
]
