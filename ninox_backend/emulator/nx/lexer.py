"""The NX tokenizer: numbers, "strings", names, 'quoted names', keywords, operators."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import NxSyntaxError

KEYWORDS = frozenset(
    {
        "select", "where", "let", "var", "if", "then", "else", "end", "for", "in", "from",
        "to", "do", "and", "or", "not", "true", "false", "null", "this", "create", "delete",
        "order", "by",
    }
)  # fmt: skip
# Words NX has but the emulator does not run: named in the error so the cause is clear.
UNSUPPORTED = frozenset({"switch", "function", "while"})
_OPERATORS = (":=", "<=", ">=", "!=", "<>", "=", "<", ">", "+", "-", "*", "/", ".", ",", ";",
              "(", ")", "[", "]")  # fmt: skip
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is ``num``, ``str``, ``name``, ``kw``, ``op`` or ``eof``."""

    kind: str
    value: str
    pos: int
    number: Decimal | None = None


def tokenize(source: str) -> list[Token]:
    """Split NX text into tokens; raises :class:`NxSyntaxError` with the position."""
    tokens: list[Token] = []
    i, size = 0, len(source)
    while i < size:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            start = i
            while i < size and source[i].isdigit():
                i += 1
            if i + 1 < size and source[i] == "." and source[i + 1].isdigit():
                i += 1
                while i < size and source[i].isdigit():
                    i += 1
            text = source[start:i]
            tokens.append(Token("num", text, start, Decimal(text)))
        elif ch in "\"'":
            text, end = _quoted(source, i)
            tokens.append(Token("str" if ch == '"' else "name", text, i))
            i = end
        elif ch.isalpha() or ch == "_":
            start = i
            while i < size and (source[i].isalnum() or source[i] == "_"):
                i += 1
            word = source[start:i]
            # Keywords are lower case, so a field named "Order" stays a name.
            if word in UNSUPPORTED:
                raise NxSyntaxError(f"'{word}' is not supported by the emulator", source, start)
            tokens.append(Token("kw" if word in KEYWORDS else "name", word, start))
        else:
            op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
            if op is None:
                raise NxSyntaxError(f"unexpected character {ch!r}", source, i)
            tokens.append(Token("op", op, i))
            i += len(op)
    tokens.append(Token("eof", "", size))
    return tokens


def _quoted(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    out: list[str] = []
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            out.append(_ESCAPES.get(source[i + 1], source[i + 1]))
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    what = "string" if quote == '"' else "quoted name"
    raise NxSyntaxError(f"unterminated {what}", source, start)
