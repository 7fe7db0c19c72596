"""The admin's Sales section of the Marketplace page: recent sales, and revoking one with a confirm step."""

import streamlit as st

from core.auth import Principal
from core.market.revocations import recent_sales, revoke_sale


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def _revoke_question(sale_id: int, sale: dict | None, status: str) -> str:
    if sale is None:
        return f"Sale #{sale_id} is no longer among the paid sales above; confirm to see why it cannot be revoked."
    if status != "refunded":
        effect = f"it is recorded as **{status}** (no Stripe call: the bank has already returned the money)"
    elif sale["provider"] == "stripe":
        effect = f"**{_money(sale['amount_cents'], sale['currency'])} is refunded to the buyer through Stripe**"
    else:
        effect = "it is recorded as **refunded** (a ledger sale: no money moves here)"
    return f"Revoke sale #{sale_id}? Its downloads stop and {effect}."


def _revoke_outcome(revoked: dict) -> str:
    refund = revoked["refund"]
    if not refund:
        return f"Sale #{revoked['id']} is now {revoked['status']}; its downloads have stopped. Stripe was not called."
    earlier = ""
    if refund["already_refunded"]:
        earlier = " Stripe had already refunded this payment (in the dashboard?), so that refund was recorded."
    return (f"Sale #{revoked['id']} is refunded: Stripe refund {refund['refund_id']} ({refund['status']}, "
            f"{_money(refund['amount_cents'] or 0, refund['currency'] or revoked['currency'])}); "
            f"its downloads have stopped.{earlier}")


def sales_section(user: Principal, market_errors: tuple[type[Exception], ...]) -> None:
    """Recent sales, and revoking a paid one (refunded through Stripe, or recorded as a chargeback)."""
    pending = st.session_state.get("mkt_revoke_pending")
    outcome = st.session_state.pop("mkt_revoke_outcome", None)
    with st.expander("Sales", expanded=bool(pending or outcome)):
        if outcome:
            st.success(outcome)
        sales = recent_sales(user)
        if sales.empty:
            st.caption("No sales yet.")
        else:
            st.dataframe(sales.assign(amount=sales["amount_cents"] / 100, currency=sales["currency"].str.upper())[
                ["sale_id", "listing", "buyer", "amount", "currency", "provider", "status", "created_at"]],
                hide_index=True, width="stretch",
                column_config={"amount": st.column_config.NumberColumn("amount", format="%.2f")})
            st.caption(f"Newest first ({len(sales)} shown). Revoking a paid sale stops its downloads; a Stripe "
                       "sale revoked as refunded is refunded through Stripe, once.")
        paid = sales[sales["status"] == "paid"].set_index("sale_id")
        if not paid.empty:
            c1, c2 = st.columns([3, 1])
            chosen = c1.selectbox("Sale to revoke", paid.index.tolist(), key="mkt_revoke_sale",
                                  format_func=lambda i: f"#{i} · {paid.loc[i, 'listing']} · {paid.loc[i, 'buyer']} · "
                                  f"{_money(paid.loc[i, 'amount_cents'], paid.loc[i, 'currency'])} · "
                                  f"{paid.loc[i, 'provider']}")
            status = c2.selectbox("New status", ["refunded", "chargeback"], key="mkt_revoke_status")
            reason = st.text_input("Reason (kept in the audit trail)", key="mkt_revoke_reason")
            if st.button("Revoke sale", key="mkt_revoke"):
                pending = {"sale_id": int(chosen), "status": status, "reason": reason}
                st.session_state["mkt_revoke_pending"] = pending
        if pending:
            row = paid.loc[pending["sale_id"]].to_dict() if pending["sale_id"] in paid.index else None
            st.warning(_revoke_question(pending["sale_id"], row, pending["status"]))
            c1, c2 = st.columns(2)
            if c1.button(f"Confirm: revoke sale #{pending['sale_id']}", type="primary", key="mkt_revoke_confirm"):
                try:
                    revoked = revoke_sale(user, pending["sale_id"], pending["status"], pending["reason"])
                    st.session_state.pop("mkt_revoke_pending", None)
                    st.session_state["mkt_revoke_outcome"] = _revoke_outcome(revoked)
                    st.rerun()
                except market_errors as exc:
                    st.error(str(exc))
            if c2.button("Cancel", key="mkt_revoke_cancel"):
                st.session_state.pop("mkt_revoke_pending", None)
                st.rerun()
