"""The NX evaluator over a small database, each construct on its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.emulator.errors import BadRequest


@pytest.fixture
def nx() -> Iterator[Emulator]:
    emu = Emulator(
        token="k", clock=lambda: datetime(2026, 8, 1, 3, 0, tzinfo=UTC), dialect="legacy"
    )
    emu.add_team("t")
    emu.add_database("t", "d")
    emu.add_table(
        "t",
        "d",
        "Lodges",
        [
            {"name": "Number", "type": "number"},
            {"name": "Name", "type": "text"},
            {"name": "Active", "type": "boolean"},
            {
                "name": "FY Total",
                "type": "formula",
                "formula": "sum((select Grants where Lodge = this and 'Grant Date' >= "
                'date(2026, 5, 1) and Status != "Cancelled").Amount)',
            },
            {"name": "All Grants", "type": "formula", "formula": "sum(Grants.Amount)"},
        ],
    )
    emu.add_table(
        "t",
        "d",
        "Grants",
        [
            {"name": "Lodge", "type": "reference", "table": "Lodges"},
            {"name": "Amount", "type": "number"},
            {"name": "Grant Date", "type": "date"},
            {"name": "Status", "type": "choice", "options": ["Approved", "Paid", "Cancelled"]},
            {"name": "Reference", "type": "text"},
        ],
    )
    emu.insert(
        "t",
        "d",
        "Lodges",
        [
            {"Number": 123, "Name": "Kilwinning No. 123", "Active": True},
            {"Number": 7, "Name": "Harmony No. 7", "Active": False},
            {"Number": 55, "Name": 'Say "Hi" No. 55', "Active": True},
        ],
    )
    emu.insert(
        "t",
        "d",
        "Grants",
        [
            {"Lodge": 1, "Amount": "1250.10", "Grant Date": "2026-05-03", "Status": "Paid"},
            {"Lodge": 1, "Amount": "0.20", "Grant Date": "2026-06-01", "Status": "Approved"},
            {"Lodge": 1, "Amount": 500, "Grant Date": "2026-06-02", "Status": "Cancelled"},
            {"Lodge": 1, "Amount": 300, "Grant Date": "2026-04-30", "Status": "Paid"},
            {"Lodge": 2, "Amount": 40, "Grant Date": "2027-04-30", "Status": "Paid"},
        ],
    )
    yield emu
    emu.close()


def run(emu: Emulator, source: str) -> Any:
    return emu.query("t", "d", source)


def test_select_gives_records_as_table_letter_and_id(nx: Emulator) -> None:
    assert run(nx, "select Lodges") == ["A1", "A2", "A3"]


def test_select_where_filters(nx: Emulator) -> None:
    assert run(nx, "select Lodges where Number > 10") == ["A1", "A3"]


def test_brackets_filter_a_selection(nx: Emulator) -> None:
    assert run(nx, "(select Lodges)[Active]") == ["A1", "A3"]
    assert run(nx, "(select Lodges)[Number = 7]") == ["A2"]


def test_a_path_on_a_selection_gives_a_list(nx: Emulator) -> None:
    assert run(nx, "(select Lodges).Number") == [123, 7, 55]


def test_quoted_names_reach_fields_with_spaces(nx: Emulator) -> None:
    assert run(nx, "first((select Grants).'Grant Date')") == "2026-05-03"


def test_field_paths_follow_references(nx: Emulator) -> None:
    assert run(nx, "(select Grants where Lodge.Number = 7).Amount") == [40]
    assert run(nx, "first(select Grants).Lodge.Name") == "Kilwinning No. 123"


def test_strings_with_escaped_quotes_compare_exactly(nx: Emulator) -> None:
    assert run(nx, r'select Lodges where Name = "Say \"Hi\" No. 55"') == ["A3"]


def test_the_fiscal_year_total_equals_summing_the_records(nx: Emulator) -> None:
    total = run(
        nx,
        "sum((select Grants where Lodge.Number = 123 and 'Grant Date' >= date(2026, 5, 1) "
        "and 'Grant Date' <= date(2027, 4, 30) and Status != \"Cancelled\").Amount)",
    )
    assert total == Decimal("1250.30")


def test_sum_of_nothing_is_null(nx: Emulator) -> None:
    assert run(nx, "sum((select Grants where Amount > 100000).Amount)") is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("count(select Grants)", 5),
        ("count(select Grants where Amount > 100000)", 0),
        ("avg((select Lodges).Number)", Decimal("61.66666666666666666666666667")),
        ("max((select Grants).Amount)", Decimal("1250.10")),
        ("min((select Grants).Amount)", Decimal("0.20")),
        ("first((select Lodges).Name)", "Kilwinning No. 123"),
        ("last((select Lodges).Number)", 55),
        ("first(select Lodges where Number = 0)", None),
        ('join((select Lodges).Number, "-")', "123-7-55"),
        ("unique((select Grants).Lodge.Number)", [123, 7]),
        ("concat((select Lodges where Active).Number)", "123, 55"),
    ],
)
def test_aggregates(nx: Emulator, source: str, expected: Any) -> None:
    assert run(nx, source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-4 + 1", -3),
        ("0.1 + 0.2", Decimal("0.3")),
        ("10 / 4", Decimal("2.5")),
        ('"No. " + 7', "No. 7"),
        ("1 = 1 and 2 > 1", True),
        ("1 = 2 or 2 <= 1", False),
        ("not (1 = 2)", True),
        ("3 <> 3", False),
        ("3 != 4", True),
        ('"b" >= "a"', True),
        ("null", None),
        ("true", True),
    ],
)
def test_operators(nx: Emulator, source: str, expected: Any) -> None:
    assert run(nx, source) == expected


def test_let_binds_a_variable(nx: Emulator) -> None:
    assert run(nx, "let x := 20; let y := x + 1; y * 2") == 42


def test_if_then_else(nx: Emulator) -> None:
    assert run(nx, 'if count(select Lodges) > 2 then "many" else "few" end') == "many"
    assert run(nx, "if false then 1 end") is None


def test_for_collects_a_list(nx: Emulator) -> None:
    assert run(nx, "for l in select Lodges where Active do l.Number * 2 end") == [246, 110]
    assert run(nx, "for i from 0 to 3 do i end") == [0, 1, 2]


def test_dates(nx: Emulator) -> None:
    assert run(nx, "date(2026, 5, 1)") == "2026-05-01"
    assert run(nx, "today()") == "2026-07-31"  # 03:00 UTC is still the 31st in Chicago
    assert run(nx, "year(date(2026, 5, 1)) + month(date(2026, 5, 1))") == 2031
    assert run(nx, "date(2026, 5, 1) + 30") == "2026-05-31"


def test_a_call_that_would_fail_fails_only_when_it_runs(nx: Emulator) -> None:
    # Calls on literals are worked out once per program; a failing one is left to fail.
    assert run(nx, "if false then date(2026, 13, 1) else 1 end") == 1
    with pytest.raises(BadRequest, match=r"month must be in 1\.\.12"):
        run(nx, "if true then date(2026, 13, 1) else 1 end")


def test_today_is_read_on_every_run_of_the_same_program() -> None:
    now = [datetime(2026, 8, 1, 12, 0, tzinfo=UTC)]
    emu = Emulator(token="k", clock=lambda: now[0], dialect="legacy")
    emu.add_team("t")
    emu.add_database("t", "d")
    assert run(emu, "text(today())") == "2026-08-01"
    now[0] = datetime(2026, 8, 3, 12, 0, tzinfo=UTC)
    assert run(emu, "text(today())") == "2026-08-03"
    emu.close()


def test_number_and_text_convert(nx: Emulator) -> None:
    assert run(nx, 'number("12.50") + 1') == Decimal("13.5")
    assert run(nx, "text(12.50)") == "12.5"
    assert run(nx, "number(first(select Grants).Status)") == 2


def test_choices_compare_with_their_caption(nx: Emulator) -> None:
    assert run(nx, 'count(select Grants where Status = "Paid")') == 3


def test_a_formula_field_is_evaluated_with_this(nx: Emulator) -> None:
    assert run(nx, "(select Lodges where Number = 123).'FY Total'") == [Decimal("1250.30")]


def test_a_formula_reads_a_reverse_reference(nx: Emulator) -> None:
    assert run(nx, "first(select Lodges).'All Grants'") == Decimal("2050.30")


def test_reference_comparison_is_identity(nx: Emulator) -> None:
    assert run(nx, "let l := first(select Lodges); count(select Grants where Lodge = l)") == 4


def test_record_finds_by_id(nx: Emulator) -> None:
    assert run(nx, "record(Lodges, 2).Name") == "Harmony No. 7"


def test_order_by_sorts_records(nx: Emulator) -> None:
    assert run(nx, "((select Lodges) order by Number).Number") == [7, 55, 123]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("select Nowhere", "unknown table 'Nowhere'"),
        ("Nobody + 1", "unknown name 'Nobody'"),
        ("first(select Lodges).Colour", "has no field 'Colour'"),
        ("frobnicate(1)", "unknown or unsupported function frobnicate()"),
        ('1 + date(2026, 1, 1) * "x"', "cannot apply '*'"),
        ("1 / 0", "division by zero"),
        ("date(2026, 1, 1) > 5", "cannot compare a date with a number"),
    ],
)
def test_errors_name_the_problem(nx: Emulator, source: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(nx, source)


def test_a_query_cannot_write(nx: Emulator) -> None:
    for source in (
        "create Lodges",
        "delete first(select Lodges)",
        "first(select Lodges).Name := 1",
    ):
        with pytest.raises(BadRequest, match="not allowed in a query"):
            run(nx, source)
    assert run(nx, "count(select Lodges)") == 3


def test_exec_creates_sets_fields_and_deletes(nx: Emulator) -> None:
    created = nx.query(
        "t", "d", "let r := (create Grants); r.(Amount := 500; Lodge := record(Lodges, 3)); r", True
    )
    assert created == "B6"
    assert run(nx, "record(Grants, 6).Lodge.Number") == 55
    nx.query("t", "d", "record(Grants, 6).Amount := 12.5", True)
    assert run(nx, "record(Grants, 6).Amount") == Decimal("12.5")
    nx.query("t", "d", "delete (select Grants where Amount = 12.5)", True)
    assert run(nx, "count(select Grants)") == 5


def test_a_failing_exec_writes_nothing(nx: Emulator) -> None:
    with pytest.raises(BadRequest):
        nx.query("t", "d", 'let r := (create Grants); r.Amount := "lots"', True)
    assert run(nx, "count(select Grants)") == 5


def test_query_and_exec_endpoints_answer_json(nx: Emulator) -> None:
    with httpx.Client(
        transport=nx.transport(),
        base_url="http://e/v1/teams/t/databases/d",
        headers={"Authorization": "Bearer k"},
    ) as client:
        got = client.get("/query", params={"query": "sum((select Grants).Amount)"})
        assert got.text == "2090.3"
        posted = client.post("/query", json={"query": "(select Lodges)[Active]"})
        assert posted.json() == ["A1", "A3"]
        write = client.post("/query", json={"query": "create Lodges"})
        assert write.status_code == 400
        assert "use exec" in write.json()["message"]
        executed = client.post("/exec", json={"query": "(create Lodges).Number := 9; 1"})
        assert executed.status_code == 200
        bad = client.post("/query", json={"query": "switch 1"})
        assert bad.status_code == 400
        assert "'switch' is not supported" in bad.json()["message"]
        assert client.post("/query", json={}).status_code == 400


def test_query_results_serialise_dates(nx: Emulator) -> None:
    source = "for g in select Grants where Amount < 1 do g.'Grant Date' end"
    assert run(nx, source) == ["2026-06-01"]


@pytest.mark.parametrize(
    ("narrowed", "scanned"),
    [
        ("select Grants where Lodge = 1", "select Grants where number(Lodge) = 1"),
        ("select Grants where 7 = Lodge.Number", "select Grants where Lodge.Number + 0 = 7"),
        (
            "select Grants where Lodge.Active = true and Amount > 1",
            "select Grants where Amount > 1 and (Lodge.Active = true) = true",
        ),
        ("select Grants where Lodge.Number = 999", "select Grants where Lodge.Number + 0 = 999"),
    ],
)
def test_selections_narrowed_through_references_match_full_scans(
    nx: Emulator, narrowed: str, scanned: str
) -> None:
    assert run(nx, narrowed) == run(nx, scanned)


@pytest.mark.parametrize(
    ("by_id", "scanned", "expected"),
    [
        (
            "select Grants where Id = 3 or Id = 1 or 3 = Id",
            "Id + 0 = 3 or Id + 0 = 1",
            ["B1", "B3"],
        ),
        ("select Grants where Id = 99 or Id = -1 or Id = 2.5", "Id + 0 = 99", []),
        ('select Grants where Id = "2"', 'Id + 0 = "2"', []),
        ("select Grants where id = 5", "id + 0 = 5", ["B5"]),
    ],
)
def test_a_selection_of_ids_answered_from_the_id_index_matches_a_full_scan(
    nx: Emulator, by_id: str, scanned: str, expected: list[str]
) -> None:
    assert run(nx, by_id) == expected
    assert run(nx, f"select Grants where {scanned}") == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Amount > 100 and Status != "Cancelled"', ["B1", "B4"]),
        ("100 < Amount and 'Grant Date' >= date(2026, 5, 3)", ["B1", "B3"]),
        ("Lodge = l", ["B1", "B2", "B3", "B4"]),
        ("Amount > 1 and Lodge = l and Status = 3", ["B3"]),
        ("Reference = null", ["B1", "B2", "B3", "B4", "B5"]),
        ("Amount = 1", []),
    ],
)
def test_a_condition_of_comparisons_selects_as_the_same_condition_walked(
    nx: Emulator, where: str, expected: list[str]
) -> None:
    # "(a > b) = true" means the same but is not a plain comparison: it takes the slow path.
    walked = " and ".join(f"({term}) = true" for term in where.split(" and "))
    for condition in (where, walked):
        assert run(nx, f"let l := record(Lodges, 1); select Grants where {condition}") == expected


def test_a_variable_in_a_condition_wins_over_a_field_of_the_same_name(nx: Emulator) -> None:
    assert run(nx, "let Amount := 5; count(select Grants where Amount > 1)") == 5
    assert run(nx, "let Amount := 5; count(select Grants where Amount > 9)") == 0


def test_a_comparison_that_cannot_be_made_names_the_problem_in_a_condition(nx: Emulator) -> None:
    with pytest.raises(BadRequest, match="cannot compare a date with a number"):
        run(nx, "select Grants where Amount > 1 and 'Grant Date' > 5")


def test_a_condition_on_a_formula_field_reads_the_formula(nx: Emulator) -> None:
    assert run(nx, "select Lodges where 'FY Total' > 1000") == ["A1"]


def test_a_variable_named_id_is_not_the_records_id(nx: Emulator) -> None:
    assert run(nx, "let Id := 2; count(select Grants where Id = 2)") == 5
    assert run(nx, "let Id := 2; count(select Grants where Id = 3)") == 0


def test_exec_reads_its_own_writes(nx: Emulator) -> None:
    source = "let r := (create Lodges); r.Number := 5; count(select Lodges where Number = 5)"
    assert nx.query("t", "d", source, True) == 1


def test_a_query_sees_records_written_since_the_last_query(nx: Emulator) -> None:
    assert run(nx, "count(select Grants)") == 5
    nx.insert("t", "d", "Grants", [{"Lodge": 2, "Amount": 1}])
    assert run(nx, "count(select Grants)") == 6
    assert run(nx, "(select Lodges where Number = 7).'All Grants'") == [41]
