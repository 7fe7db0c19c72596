"""Options analytics: chains through a broker adapter, implied volatility and greeks, risk, paper decisions.

Nothing here places a real order. The numeric core (bsm, iv, greeks_table) imports only numpy,
scipy and pyarrow, so `python -m core options greeks` starts fast.
"""
