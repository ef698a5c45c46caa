"""Chargeback: the statement per consumer per month, with exports that add up to the cent."""

import streamlit as st

from dashboard import charts, data, frame, statement
from dashboard.formatting import count, money

scope = frame.scope()
st.title("Chargeback")
frame.require_launches(scope)

lines_by_month = data.fetch("chargeback", scope.filters)
frame.require_rows(len(lines_by_month))

lines = statement.statement_lines(lines_by_month)
matrix = statement.statement_matrix(lines_by_month)
totals = lines.iloc[-1]
currency = scope.currency
st.caption(scope.money_caption())

charged, launches, priced, pending = st.columns(4)
exact = sum(lines_by_month["total_cost"])
charged.metric(
    "Charged",
    money(totals["Total cost"], currency),
    help=f"The statement total: the sum of its lines, each rounded to the cent. Before rounding: {exact:,f} {currency}.",
)
launches.metric("Launches", count(totals["Launches"]))
priced.metric("Priced launches", count(totals["Priced launches"]))
pending.metric("Pending a price", count(totals["Pending price"]), help="Counted, not charged, until the price arrives.")

st.plotly_chart(
    charts.stacked_monthly_bars(
        lines_by_month,
        "total_cost",
        title="Charged by launch month and consumer",
        yaxis_title=currency,
        colors=scope.consumer_colors,
    ),
    key="chargeback_chart",
)

months = tuple(c for c in matrix.columns if c not in ("Consumer", statement.TOTAL))
st.subheader("Statement: consumer × month")
frame.table(matrix, currency=currency, money=(*months, statement.TOTAL), labels={m: m for m in months}, key="chargeback_matrix")
st.caption(statement.ROUNDING_NOTE)

st.subheader("Statement lines")
amounts = (*statement.AMOUNTS.values(), "Cost per launch")
frame.table(lines, currency=currency, money=amounts, labels={c: c for c in lines.columns}, key="chargeback_lines")

stem = f"chargeback_{scope.filters.start.isoformat()}_{scope.filters.end.isoformat()}"
about = {
    "Statement": "Launch Ledger chargeback statement",
    "Currency": currency,
    "Period": f"launches started {scope.period} (UTC)",
    "Consumers": ", ".join(scope.filters.consumers) or "all",
    "Workflow types": ", ".join(scope.filters.workflow_types) or "all",
    "Platforms": ", ".join(scope.filters.platforms) or "all",
    "Statuses": ", ".join(scope.filters.statuses) or "all",
    "Rounding": statement.ROUNDING_NOTE,
}
csv_col, xlsx_col, _ = st.columns([1, 1, 4])
csv_col.download_button(
    "Download CSV",
    statement.to_csv_bytes(lines),
    file_name=f"{stem}.csv",
    mime="text/csv",
    key="chargeback_csv",
    on_click="ignore",
)
xlsx_col.download_button(
    "Download XLSX",
    statement.to_xlsx_bytes({"Statement": lines, "By month": matrix}, about),
    file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="chargeback_xlsx",
    on_click="ignore",
)
