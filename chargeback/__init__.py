"""Chargeback allocation: every dollar of a month's bill on a statement line, by stated rules.

Pure Python and DuckDB (no Streamlit): ``rules`` reads the TOML rules, ``statement`` allocates a
month (exact money, half-even cents, a documented rounding line), ``closing`` freezes closed months
and charges later restatements as adjustments, ``exports`` writes CSV, XLSX, PDF (``pdf``) and FOCUS
(``focus``), and ``statements`` writes a month's files for every consumer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from chargeback.closing import close_month, compute, statement_for
from chargeback.exports import named_consumers
from chargeback.rules import Rules, load_rules, parse_rules, rules_for
from chargeback.statement import MEASURE, Statement, allocate
from core.access import EVERYONE, Reader
from core.errors import ChargebackError


def chargeback_statement(
    con, month: date, rules_text: str, rules_path: str | None = None, reader: Reader = EVERYONE
) -> Statement:
    """The statement of ``month`` under the rules in ``rules_text``, as ``reader`` may see it (cache-friendly).

    Allocated over the whole month, then cut to the reader's consumers (``Statement.visible_to``) before
    it leaves: the cache, the page and every export only ever hold the cut statement.
    """
    rules = replace(parse_rules(rules_text, rules_path or "allocation rules"), path=rules_path)
    return statement_for(con, month, rules).visible_to(reader.consumers, names=named_consumers(rules))


__all__ = [
    "MEASURE",
    "ChargebackError",
    "Rules",
    "Statement",
    "allocate",
    "chargeback_statement",
    "close_month",
    "compute",
    "load_rules",
    "parse_rules",
    "rules_for",
    "statement_for",
]
