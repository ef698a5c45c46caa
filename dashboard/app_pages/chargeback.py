"""Chargeback: a month's statement per consumer, every cent of the bill allocated by stated rules."""

import streamlit as st

from chargeback import MEASURE, exports
from core.errors import LedgerError
from dashboard import auth, charts, data, empty_states, frame, statement
from dashboard.formatting import count, money

scope = frame.scope()
access = auth.current()
st.title("Chargeback")
try:
    rules = statement.rules()
except LedgerError as exc:
    st.error(str(exc))
    st.stop()
held = data.fetch("statement_months")
months = statement.offered_months(held, scope.filters, not scope.options.is_empty)
if scope.options.is_empty and not months:
    frame.require_launches(scope)
if not months:  # what is missing: any bill at all, or a billed month in the period
    billed = sorted(held["statement_month"])
    st.info(empty_states.no_bill_in_period(billed, scope.filters) if billed else empty_states.NO_BILL)
    st.stop()
st.caption(scope.money_caption("statement months are calendar months (UTC) of the bill, picked below"))

month = st.selectbox(
    "Statement month", months, index=len(months) - 1, format_func=lambda m: m.strftime("%Y-%m"), key="statement_month"
)
result = data.fetch("chargeback_statement", month=month, rules_text=rules.text, rules_path=rules.path)
lines = result.view(scope.filters.consumers, scope.filters.workflow_types, scope.filters.platforms)
cur = result.currency
st.caption(f"{cur} · bill for {result.label} from {result.bill_source or 'no source yet'} · {MEASURE}")
(st.success if result.closed else st.info)(statement.status(result))
if closed_now := st.session_state.pop("chargeback_closed", None):
    st.success(closed_now)
for note in result.notes:
    st.warning(note)

for column, figure in zip(st.columns(5), statement.headline(result), strict=True):
    frame.metric(column, figure.label, figure.value, currency=cur, help=figure.help)
st.caption(statement.reconciliation(result))

summary = exports.summary(lines)
st.plotly_chart(charts.statement_bars(summary, result), key="chargeback_chart")
st.subheader(f"Statement {result.label} by consumer")
frame.table(
    summary, currency=cur, money=statement.MONEY, months=(), labels={c: c for c in summary.columns}, key="statement_summary"
)

st.subheader("Statement lines")
consumers = [c for c in summary["Consumer"] if c in set(lines["consumer"])]
picked = st.selectbox("Consumer", [None, *consumers], format_func=lambda c: c or "Every consumer", key="statement_consumer")
shown = exports.line_table(statement.chosen_lines(lines, picked))
frame.table(shown, currency=cur, money=statement.MONEY, months=(), labels={c: c for c in shown.columns}, key="statement_lines")
launches = int(shown["Launches"].iloc[-1] or 0)
st.caption(f"{cur} · {result.label} · {count(launches)} launches · amounts in whole cents; " + exports.RECONCILIATION_NOTE)

columns = st.columns(4)
for column, item in zip(
    columns, statement.downloads(result, lines, rules, statement.filters_text(scope.filters), picked), strict=True
):
    column.download_button(
        f"Download {item.label}",
        item.data,
        file_name=item.file_name,
        mime=item.mime,
        key=item.key,
        on_click=statement.downloaded,
        args=(access, item, result, picked),
    )

if not result.closed and access.may_close_months:
    blocked = statement.closable(data.fetch("statement_months"), month, access=access)
    with st.expander(f"Close {result.label}", expanded=False):
        st.write(
            f"Closing freezes this statement ({money(result.total, cur)}) as it is now. It will never change again; if the "
            "bill is restated later, the difference is charged as an adjustment in the first open month."
        )
        if blocked:
            st.caption(blocked)
        sure = st.checkbox(f"I have checked the {result.label} statement: freeze it", key="close_confirm", disabled=bool(blocked))
        if st.button(f"Close {result.label}", key="close_month", type="primary", disabled=bool(blocked) or not sure):
            try:
                st.session_state["chargeback_closed"] = statement.close(month, rules, access)
            except LedgerError as exc:
                st.error(str(exc))
            else:
                st.rerun()

with st.expander("Allocation rules (read-only)"):
    st.caption(
        f"{rules.path or 'allocation rules'} · fingerprint {rules.fingerprint[:12]} · consumer tag {rules.tag!r} · "
        f"launches by {rules.launch_attribute!r} · bill sources in order: {', '.join(rules.sources)}"
    )
    frame.table(exports.rules_table(rules, result.scope), key="statement_rules")
    if result.scope is None:
        st.code(rules.text, language="toml")
    else:
        st.caption("Other consumers the rules name read as 'another consumer'; the rules file is shown to finance.")
