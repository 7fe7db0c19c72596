"""Market activity scripted between two crawls of the demo marketplace (tests, the monitor benchmark, demos).

The shop starts as generated from its seed; each change here is what a real marketplace does between two
visits: new items, price drops, a relist under a new number with a reworded title, removals, items selling
out and coming back, and the index shown in another order. With no change scripted the shop serves exactly
the pages it always did.

    shop = sites.hosts["marketplace"].site
    shop.drop_price(12, 0.2)      # 20% cheaper
    new = shop.relist(30)         # item 30 gone, the same item listed again as `new`
    shop.shuffle(seed=1)          # same items, index pages in another order
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import timedelta

RELIST_TITLE = "{title} - reduced, must go"
IN_STOCK, OUT_OF_STOCK = "InStock", "OutOfStock"


@dataclass
class ShopChanges:
    removed: set[int] = field(default_factory=set)  # numbers no longer listed (their page answers 404)
    added: list[int] = field(default_factory=list)  # numbers past the generated catalogue, in listing order
    relists: dict[int, int] = field(default_factory=dict)  # new number -> the number of the item it relists
    prices: dict[int, float | None] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)
    stock: dict[int, str] = field(default_factory=dict)  # schema.org availability
    shuffle_seed: int | None = None  # index order; None: by number


class ScriptedShop:
    """The scripting half of MarketplaceSite (which provides `item`, `count` and `changes`)."""

    # -- what the shop shows now ---------------------------------------------------------------------
    def listed_numbers(self) -> list[int]:
        numbers = [n for n in range(1, self.count + 1) if n not in self.changes.removed]
        numbers += [n for n in self.changes.added if n not in self.changes.removed]
        if self.changes.shuffle_seed is not None:
            random.Random(self.changes.shuffle_seed).shuffle(numbers)
        return numbers

    def current(self, number: int):
        """The item as its page shows it now, or None when it is not listed."""
        listed = 1 <= number <= self.count or number in self.changes.added
        return self._state(number) if listed and number not in self.changes.removed else None

    def _state(self, number: int):
        changes = self.changes
        if number in changes.relists:
            original = self._state(changes.relists[number])
            item = replace(original, number=number, relist_of=original.number,
                           posted=original.posted + timedelta(days=9))
        else:
            item = self.item(number)
        if number in changes.prices:
            item = replace(item, price=changes.prices[number])
        if number in changes.titles:
            item = replace(item, title=changes.titles[number])
        if number in changes.stock:
            item = replace(item, availability=changes.stock[number])
        return item

    # -- scripting -----------------------------------------------------------------------------------
    def _next_number(self) -> int:
        number = max([self.count, *self.changes.added]) + 1
        while number % 16 == 9:  # the generator makes these numbers relists of an older item
            number += 1
        return number

    def _listed(self, number: int):
        item = self.current(number)
        if item is None:
            raise ValueError(f"item {number} is not listed")
        return item

    def add_items(self, count: int = 1) -> list[int]:
        """New items (generated from the seed like the others) at the end of the listings."""
        numbers = []
        for _ in range(count):
            numbers.append(self._next_number())
            self.changes.added.append(numbers[-1])
        return numbers

    def set_price(self, number: int, price: float | None) -> None:
        self._listed(number)
        self.changes.prices[number] = None if price is None else round(price, 2)

    def drop_price(self, number: int, fraction: float = 0.1) -> float:
        """Lower a listed item's price by `fraction`; returns the new price."""
        item = self._listed(number)
        if item.price is None:
            raise ValueError(f"item {number} has no price to drop")
        self.set_price(number, item.price * (1 - fraction))
        return self.changes.prices[number]

    def relist(self, number: int, title: str | None = None, fraction: float = 0.05) -> int:
        """Take item `number` down and list the same item again under a new number, with a reworded title
        and a price `fraction` lower; returns the new number."""
        original = self._listed(number)
        new = self._next_number()
        self.changes.added.append(new)
        self.changes.relists[new] = number
        self.changes.titles[new] = title or RELIST_TITLE.format(title=original.title)
        if original.price is not None:
            self.changes.prices[new] = round(original.price * (1 - fraction), 2)
        self.changes.removed.add(number)
        return new

    def remove(self, number: int) -> None:
        self._listed(number)
        self.changes.removed.add(number)

    def set_in_stock(self, number: int, in_stock: bool) -> None:
        self._listed(number)
        self.changes.stock[number] = IN_STOCK if in_stock else OUT_OF_STOCK

    def shuffle(self, seed: int | None) -> None:
        """Show the same items in another order on the index pages (None: by number again)."""
        self.changes.shuffle_seed = seed

    def reset_changes(self) -> None:
        self.changes = ShopChanges()
