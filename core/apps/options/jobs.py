"""The options app's job: `options_snapshot`, one chain per underlying, with progress and cancellation.

Submitted by the scheduler (core/apps/options/schedule.py) for a user's saved schedule, by the page's
"Run now", or from the CLI; it runs as the submitting principal, checked again when it starts.
"""

from __future__ import annotations

from core.apps.options.broker import BrokerError, configured_broker
from core.apps.options.snapshots import take_snapshot
from core.store.jobs import JobContext, job_function


@job_function("options_snapshot", roles=("supplier", "admin"))
def options_snapshot(ctx: JobContext, params: dict) -> dict:
    """params: {"symbols": [...] (default: every underlying the broker lists), "schedule_id": optional}.

    A symbol the broker cannot serve is logged and skipped; the job fails only when none succeeded."""
    broker = configured_broker()
    symbols = [s for s in params.get("symbols") or [] if s] or broker.symbols()
    taken, failed = [], {}
    ctx.progress(0.0, f"Snapshotting {len(symbols)} underlying(s) from {broker.name}")
    for i, symbol in enumerate(symbols):
        ctx.check_cancelled()
        try:
            snap = take_snapshot(ctx.principal, broker, symbol)
        except BrokerError as exc:
            failed[symbol] = str(exc)
            ctx.log(f"{symbol}: {exc}")
        else:
            taken.append({"symbol": symbol, "snapshot_id": snap["id"], "as_of": snap["as_of"],
                          "contracts": snap["contracts"], "marked_trades": snap["marked_trades"]})
            ctx.log(f"{symbol}: {snap['contracts']} contracts as of {snap['as_of']}, "
                    f"{snap['marked_trades']} paper trade(s) marked")
        ctx.progress((i + 1) / len(symbols), f"{i + 1}/{len(symbols)}: {symbol}")
    if symbols and not taken:
        raise BrokerError("No chain could be fetched: " + "; ".join(f"{s}: {e}" for s, e in failed.items()))
    return {"snapshots": taken, "failed": failed, "schedule_id": params.get("schedule_id")}
