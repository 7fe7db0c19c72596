"""Market activity on the local demo shop, for trying the monitor (and for its benchmark and tests).

`plant_changes` scripts a random mix of changes on the running demo marketplace and returns the events a
pass must find, exactly: new items, price drops, a relist with a reworded title, a removal, a sale (sold out:
no event), a restock (back in stock) and a shuffled index (no event).
"""

from __future__ import annotations

import random

from core.apps.listings.monitor.changes import listing_key
from core.auth import Principal
from core.tenancy import require_supplier

Planted = tuple[str, str]  # (event kind or "none", listing key)


def plant_changes(shop, rng: random.Random, *, new: int = 2, drops: int = 2, relists: int = 1, removals: int = 1,
                  sold_out: int = 1, restocks: int = 1, shuffle: bool = True) -> list[Planted]:
    """Script changes on a demo MarketplaceSite; returns (expected event kind, key) per change ("none": no
    event expected, as for an item selling out). Each listed item is touched at most once."""
    listed = shop.listed_numbers()
    priced = [n for n in listed if shop.current(n).price is not None]
    in_stock = [n for n in priced if shop.current(n).availability != "OutOfStock"]
    sold = [n for n in listed if shop.current(n).availability == "OutOfStock"]
    touched: set[int] = set()

    def pick(pool: list[int], count: int) -> list[int]:
        chosen = rng.sample([n for n in pool if n not in touched], min(count, len(set(pool) - touched)))
        touched.update(chosen)
        return chosen

    planted: list[Planted] = []
    for number in pick(sold, restocks):
        shop.set_in_stock(number, True)
        planted.append(("back_in_stock", shop.current(number).path))
    for number in pick(in_stock, drops):
        shop.drop_price(number, rng.choice([0.05, 0.1, 0.2, 0.35]))
        planted.append(("price_drop", shop.current(number).path))
    for number in pick(in_stock, relists):
        relisted = shop.relist(number)
        planted.append(("relist", shop.current(relisted).path))
    for number in pick(listed, removals):
        shop.remove(number)
        planted.append(("gone", f"/item/{number}.html"))
    for number in pick(in_stock, sold_out):
        shop.set_in_stock(number, False)
        planted.append(("none", shop.current(number).path))
    for number in shop.add_items(new):
        planted.append(("new", shop.current(number).path))
    if shuffle:
        shop.shuffle(rng.randrange(1 << 30))
    return [(kind, listing_key(path)) for kind, path in planted]


def simulate_market_activity(principal: Principal | None, seed: int | None = None) -> list[dict]:
    """Plant a round of changes on the running demo shop; what a pass over demo-marketplace will report."""
    require_supplier(principal, "change the demo shop")
    from core.sources.jobs import demo_sites

    shop = demo_sites().hosts["marketplace"].site
    planted = plant_changes(shop, random.Random(seed))
    return [{"expected": kind.replace("_", " ") if kind != "none" else "no event (sold out)", "listing": key}
            for kind, key in planted]
