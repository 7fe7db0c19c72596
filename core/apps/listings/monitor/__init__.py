"""Marketplace monitor: saved searches, watched listing sources re-scraped on a schedule, and the events
each pass finds (new listing, price drop, relist, back in stock, gone), delivered to an inbox per user.

    changes.py   the event logic: one pass's listings against what was known (pure, no stores)
    searches.py  saved searches and which listings they match
    watches.py   watched sources, their intervals, and the scheduler tick that submits due passes
    passes.py    a pass: crawl (or an imported export), then state, events and inbox in one transaction
    exports.py   the user's own exported HTML/JSON files for sites that need a login
    inbox.py     events per user: unread counts, filters, mark read, the record behind an event
    live.py      the listings of watched sources as they stand, served from the raw store
    stats.py     median price by category over time, listing volume, time to sell (SQL)
    charts.py    plotly figures of those statistics
"""
