"""The NX parser: tokens to a tree of :mod:`.nodes`, by recursive descent.

Grammar (lowest precedence first)::

    program    := sequence EOF
    sequence   := statement (";" statement)* [";"]
    statement  := ("let" | "var") NAME ":=" expr | expr [":=" expr]
    expr       := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | compare
    compare    := additive [("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") additive]
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | postfix
    postfix    := primary ("." NAME | ".(" sequence ")" | "[" expr "]" | "order by" unary)*
    primary    := NUMBER | STRING | true | false | null | this | NAME ["(" args ")"]
                | "(" sequence ")" | "select" NAME ["where" expr]
                | "if" expr "then" sequence ["else" sequence] "end"
                | "for" NAME ("in" expr | "from" expr "to" expr) "do" sequence "end"
                | "create" NAME | "delete" unary
"""

from __future__ import annotations

from .errors import NxSyntaxError
from .lexer import Token, tokenize
from .nodes import (
    Assign,
    Binary,
    Block,
    Call,
    Create,
    Delete,
    Filter,
    For,
    If,
    Let,
    Literal,
    Name,
    Node,
    OrderBy,
    Path,
    Select,
    This,
    Unary,
    With,
)

_COMPARE = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def parse(source: str) -> Node:
    """Parse NX text; raises :class:`NxSyntaxError` naming what and where."""
    return _Parser(source).program()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    # -- token helpers --------------------------------------------------------
    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at(self, kind: str, value: str | None = None) -> bool:
        token = self.token
        return token.kind == kind and (value is None or token.value == value)

    def accept(self, kind: str, value: str | None = None) -> Token | None:
        return self.advance() if self.at(kind, value) else None

    def expect(self, kind: str, value: str | None = None, what: str | None = None) -> Token:
        if self.at(kind, value):
            return self.advance()
        raise self.error(f"expected {what or (repr(value) if value else kind)}")

    def error(self, message: str, token: Token | None = None) -> NxSyntaxError:
        token = token or self.token
        found = "end of input" if token.kind == "eof" else repr(token.value)
        return NxSyntaxError(f"{message}, found {found}", self.source, token.pos)

    def name(self, what: str) -> str:
        if self.at("name"):
            return self.advance().value
        raise self.error(f"expected {what}")

    # -- grammar --------------------------------------------------------------
    def program(self) -> Node:
        if self.at("eof"):
            raise self.error("empty program")
        node = self.sequence()
        if not self.at("eof"):
            raise self.error("unexpected text after the end of the expression")
        return node

    def sequence(self) -> Node:
        start = self.token.pos
        body = [self.statement()]
        while self.accept("op", ";"):
            if (
                self.at("eof")
                or self.at("op", ")")
                or self.at("kw", "end")
                or self.at("kw", "else")
            ):
                break
            body.append(self.statement())
        return body[0] if len(body) == 1 else Block(start, tuple(body))

    def statement(self) -> Node:
        start = self.token.pos
        if self.accept("kw", "let") or self.accept("kw", "var"):
            name = self.name("a variable name")
            self.expect("op", ":=")
            return Let(start, name, self.expr())
        node = self.expr()
        if self.at("op", ":="):
            if not isinstance(node, Name | Path):
                raise self.error("only a variable or a field can be assigned")
            self.advance()
            return Assign(start, node, self.expr())
        return node

    def expr(self) -> Node:
        node = self.conjunction()
        while self.at("kw", "or"):
            pos = self.advance().pos
            node = Binary(pos, "or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at("kw", "and"):
            pos = self.advance().pos
            node = Binary(pos, "and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.at("kw", "not"):
            pos = self.advance().pos
            return Unary(pos, "not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.token.kind == "op" and self.token.value in _COMPARE:
            token = self.advance()
            node = Binary(token.pos, _COMPARE[token.value], node, self.additive())
            if self.token.kind == "op" and self.token.value in _COMPARE:
                raise self.error("comparisons cannot be chained; use 'and'")
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.token.kind == "op" and self.token.value in ("+", "-"):
            token = self.advance()
            node = Binary(token.pos, token.value, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.token.kind == "op" and self.token.value in ("*", "/"):
            token = self.advance()
            node = Binary(token.pos, token.value, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            pos = self.advance().pos
            return Unary(pos, "-", self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.at("op", "."):
                pos = self.advance().pos
                if self.accept("op", "("):
                    node = With(pos, node, self.sequence())
                    self.expect("op", ")", "')' closing the field block")
                else:
                    node = Path(pos, node, self.name("a field name after '.'"))
            elif self.at("op", "["):
                pos = self.advance().pos
                node = Filter(pos, node, self.expr())
                self.expect("op", "]", "']' closing the filter")
            elif self.at("kw", "order"):
                pos = self.advance().pos
                self.expect("kw", "by", "'by' after 'order'")
                node = OrderBy(pos, node, self.unary())
            else:
                return node

    def primary(self) -> Node:
        token = self.token
        if token.kind == "num":
            self.advance()
            return Literal(token.pos, token.number)
        if token.kind == "str":
            self.advance()
            return Literal(token.pos, token.value)
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            return Name(token.pos, token.value)
        if token.kind == "op" and token.value == "(":
            self.advance()
            node = self.sequence()
            self.expect("op", ")", "')'")
            return node
        if token.kind == "kw":
            handler = getattr(self, f"kw_{token.value}", None)
            if handler is not None:
                self.advance()
                result: Node = handler(token)
                return result
            raise self.error(f"'{token.value}' cannot start an expression")
        raise self.error("expected an expression")

    def call(self, token: Token) -> Node:
        self.expect("op", "(")
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.expr())
            while self.accept("op", ","):
                args.append(self.expr())
        self.expect("op", ")", "')' closing the arguments")
        return Call(token.pos, token.value, tuple(args))

    # -- keyword expressions --------------------------------------------------
    def kw_true(self, token: Token) -> Node:
        return Literal(token.pos, True)

    def kw_false(self, token: Token) -> Node:
        return Literal(token.pos, False)

    def kw_null(self, token: Token) -> Node:
        return Literal(token.pos, None)

    def kw_this(self, token: Token) -> Node:
        return This(token.pos)

    def kw_select(self, token: Token) -> Node:
        table = self.name("a table name after 'select'")
        where = self.expr() if self.accept("kw", "where") else None
        return Select(token.pos, table, where)

    def kw_if(self, token: Token) -> Node:
        cond = self.expr()
        self.expect("kw", "then", "'then'")
        then = self.sequence()
        otherwise = self.sequence() if self.accept("kw", "else") else None
        self.expect("kw", "end", "'end' closing 'if'")
        return If(token.pos, cond, then, otherwise)

    def kw_for(self, token: Token) -> Node:
        var = self.name("a loop variable after 'for'")
        iterable = start = stop = None
        if self.accept("kw", "in"):
            iterable = self.expr()
        elif self.accept("kw", "from"):
            start = self.expr()
            self.expect("kw", "to", "'to'")
            stop = self.expr()
        else:
            raise self.error("expected 'in' or 'from' after the loop variable")
        self.expect("kw", "do", "'do'")
        if self.at("name", "as"):
            raise self.error("'do as' blocks are not supported by the emulator")
        body = self.sequence()
        self.expect("kw", "end", "'end' closing 'for'")
        return For(token.pos, var, iterable, start, stop, body)

    def kw_create(self, token: Token) -> Node:
        return Create(token.pos, self.name("a table name after 'create'"))

    def kw_delete(self, token: Token) -> Node:
        return Delete(token.pos, self.unary())

    def kw_do(self, token: Token) -> Node:
        raise self.error("'do as' blocks are not supported by the emulator", token)
