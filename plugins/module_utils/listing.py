# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Complete listings over offset pages whose order among equal sort keys is not stable.

Waldur pages a list with ``ORDER BY <sort key> LIMIT/OFFSET``. Among objects with equal keys,
PostgreSQL's order depends on ``offset + limit`` (a top-N sort), so two pages can hold the same
object and miss another, and do so identically on every retry (tests/live/seeded/test_paging.py
shows it on a real Waldur; tests/emulator/ordering.py reproduces it). Objects with unique keys
always stand in their place, so only a tie group that a page boundary cuts can be wrong. A listing
therefore:

1. reads every page and checks it against the announced total, starting again when the total or
   the page sizes show that the list changed while it was read (or a proxy altered a page);
2. when objects were repeated, fetches each tie group that a page boundary cut on its own, with a
   filter on the sort key (one request per cut group that fits a page), the same way again for a
   group that spans pages, then split by a partition filter (the service settings);
3. reads a list in no order at all again with other page sizes;
4. returns only the announced number of distinct objects, or fails saying which of these happened.
"""

from __future__ import annotations

import math
import threading

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import MAX_PAGE_SIZE
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurNotFoundError, WaldurResponseError

# How often a listing is read again when its total or its pages change while it is read.
LISTING_ATTEMPTS = 3
# Readings with other page sizes, before giving up: of a list in no order, and of a sorted one
# whose ties could not be fetched on their own.
UNORDERED_READINGS = 12
ORDERED_READINGS = 3


class ListOrder:
    """How the server sorts one kind of list, so that the objects it repeats and misses can be found.

    ``tie_key(obj)``: the sort key as the object shows it (objects with equal keys may come in any
    order); None for a list in no order. ``narrow(tie)``: query parameters that select the objects
    of that key (a superset is fine), or None. ``partition``: ``(parameter, value_of(obj))``, a
    filter that splits any listing into disjoint smaller ones, and ``partition_values()`` every value
    it can take beyond those seen.
    """

    def __init__(self, noun, tie_key=None, narrow=None, partition=None, partition_values=None):
        self.noun = noun
        self.tie_key = tie_key
        self.narrow = narrow
        self.partition = partition
        self.partition_values = partition_values

    def with_partition_values(self, partition_values):
        """This order, with a source of every value the partition filter can take."""
        return ListOrder(self.noun, self.tie_key, self.narrow, self.partition, partition_values)


class Page:
    """One page of a list: its items, the total the server announced, and whether it links a next page.

    ``has_next`` is None when the response had no ``Link`` header (a proxy may strip it).
    """

    def __init__(self, items, total, has_next=None):
        self.items = items
        self.total = total
        self.has_next = has_next


class Reading:
    """One walk over every page of a query: the pages, the total and the distinct objects, in page order."""

    def __init__(self, pages, key):
        self.pages = pages
        self.total = pages[0].total
        self.items = [item for page in pages for item in page.items]
        self.distinct = {}
        for item in self.items:
            self.distinct.setdefault(item.get(key), item)

    def cut_ties(self, tie_key):
        """The sort keys at both sides of a page boundary: the tie groups that boundary may have cut."""
        cut = []
        for before, after in zip(self.pages, self.pages[1:]):
            if before.items and after.items:
                tie = tie_key(before.items[-1])
                if tie == tie_key(after.items[0]) and tie not in cut:
                    cut.append(tie)
        return cut


class Listing:
    """Every object of one list query, complete whatever the server's page order among ties."""

    def __init__(self, client, path, order=None, key="uuid"):
        self.client = client
        self.path = path
        self.order = order
        self.key = key
        self.readings = 0
        self._partition_values = None
        self._lock = threading.Lock()

    def read(self, params):
        found, reading = self._complete(list(params))
        if len(found) == reading.total:
            return self._in_server_order(reading, found)
        raise self._incomplete(params, reading, found)

    # ------------------------------------------------------------------ walking
    def _walk(self, params, page_size=None):
        """A Reading of ``params`` whose pages agree with each other, read again while they do not."""
        page_size = page_size or self.client.page_size
        problem = None
        for _attempt in range(LISTING_ATTEMPTS):
            self.readings += 1
            first = self.client.get_page(self.path, params, 1, page_size)
            page_count = max(1, math.ceil(first.total / page_size))
            later = self.client.fetch_concurrently({
                number: lambda number=number: self._later_page(params, number, page_size) for number in range(2, page_count + 1)})
            pages = [first] + [later[number] for number in range(2, page_count + 1)]
            problem = _paging_problem(pages, page_size)
            if problem is None:
                reading = Reading(pages, self.key)
                repeated = reading.total - len(reading.distinct)
                if repeated < 0:
                    problem = "%d distinct objects arrived for a total of %d" % (len(reading.distinct), reading.total)
                elif repeated and self.order is None:
                    # A total order leaves no ties: a repeat means the list shifted while it was read.
                    problem = "%d objects were repeated across pages, so as many were missed" % repeated
                else:
                    return reading
            self.client.log("listing %s again: %s" % (self.client.url_for(self.path, params), problem))
        url = self.client.url_for(self.path, params)
        raise WaldurResponseError(
            "the list at %s could not be read consistently in %d attempts (it kept changing, or a proxy alters the "
            "answers): %s" % (url, LISTING_ATTEMPTS, problem), url=url)

    def _later_page(self, params, number, page_size):
        """Page ``number`` (> 1), or None when the server says it does not exist (the list shrank)."""
        try:
            return self.client.get_page(self.path, params, number, page_size)
        except WaldurNotFoundError:
            return None

    # -------------------------------------------------------------- completing
    def _complete(self, params, bound=None):
        """``({key: object}, reading)`` for ``params``: as complete as the server lets it be made.

        ``bound`` is the total of the listing this one narrows; a filter the server ignored
        (its total is not smaller) cannot help, so nothing more is tried with it.
        """
        reading = self._walk(params)
        found = dict(reading.distinct)
        if len(found) == reading.total or (bound is not None and reading.total >= bound):
            return found, reading
        if self.order.tie_key is None:
            self._read_again(params, reading, found)
            return found, reading
        narrowed = {}
        for tie in reading.cut_ties(self.order.tie_key) if self.order.narrow is not None else ():
            extra = self.order.narrow(tie)
            if extra and not set(extra) <= set(params):
                narrowed[tie] = params + extra
        self._add(found, narrowed, reading.total)
        if len(found) < reading.total and self.order.partition is not None:
            parameter, value_of = self.order.partition
            if parameter not in dict(params):
                values = {value_of(item) for item in found.values()} | self._all_partition_values()
                self._add(found, {value: params + [(parameter, value)] for value in sorted(v for v in values if v)},
                          reading.total)
        if len(found) < reading.total:
            self._read_again(params, reading, found)
        return found, reading

    def _all_partition_values(self):
        """Every value the order's partition filter can take (asked for once per listing)."""
        with self._lock:
            if self._partition_values is None:
                self._partition_values = set(self.order.partition_values() if self.order.partition_values else ())
            return self._partition_values

    def _add(self, found, queries, bound):
        """Add to ``found`` the objects of each narrower query (run in parallel)."""
        results = self.client.fetch_concurrently({
            name: lambda query=query: self._complete(query, bound)[0] for name, query in queries.items()})
        for objects in results.values():
            found.update(objects)

    def _read_again(self, params, reading, found):
        """Read ``params`` again with page sizes that cut the incomplete tie groups elsewhere, until complete."""
        readings = UNORDERED_READINGS if self.order.tie_key is None else ORDERED_READINGS
        for page_size in self._other_page_sizes(reading, found)[:readings]:
            found.update(self._walk(params, page_size).distinct)
            if len(found) >= reading.total:
                return

    def _other_page_sizes(self, reading, found):
        """Page sizes, most promising first: those whose boundaries cut none of the incomplete groups."""
        used = len(reading.pages[0].items) if len(reading.pages) > 1 else None
        sizes = [size for size in range(MAX_PAGE_SIZE, 0, -1) if size != used]
        if self.order.tie_key is None:
            return sizes
        spans = {}
        for position, item in enumerate(reading.items):
            low, _high = spans.get(self.order.tie_key(item), (position, position))
            spans[self.order.tie_key(item)] = (low, position + 1)
        counted = {}
        for item in found.values():
            tie = self.order.tie_key(item)
            counted[tie] = counted.get(tie, 0) + 1
        short = [span for tie, span in spans.items() if counted.get(tie, 0) < span[1] - span[0]]
        whole = [size for size in sizes if all(low // size == (high - 1) // size for low, high in short)]
        return whole + [size for size in sizes if size not in whole]

    # ----------------------------------------------------------------- results
    def _in_server_order(self, reading, found):
        """The objects in the order of the first reading; among equal sort keys, whose order the server
        leaves open, recovered objects join their equals and each group is ordered by ``key``."""
        if self.order is None:
            return list(reading.distinct.values())
        tie_key = self.order.tie_key or (lambda item: None)
        recovered = {}
        for identity, item in found.items():
            if identity not in reading.distinct:
                recovered.setdefault(tie_key(item), []).append(item)
        result = []
        run = []
        for item in list(reading.distinct.values()) + [None]:
            if run and (item is None or tie_key(item) != tie_key(run[0])):
                run.extend(recovered.pop(tie_key(run[0]), ()))
                result.extend(sorted(run, key=lambda member: str(member.get(self.key))))
                run = []
            if item is not None:
                run.append(item)
        for rest in recovered.values():
            result.extend(sorted(rest, key=lambda member: str(member.get(self.key))))
        return result

    def _incomplete(self, params, reading, found):
        url = self.client.url_for(self.path, params)
        missing = reading.total - len(found)
        if missing < 0:
            return WaldurResponseError(
                "the list at %s changed while it was read: %d distinct %s were found for a total of %d. Run again; if it "
                "keeps happening, the data is changing faster than it can be read" % (
                    url, len(found), self.order.noun, reading.total), url=url)
        if self.order.tie_key is None:
            return WaldurResponseError(
                "the list at %s could not be completed: the server sends %s in no order, so pages repeat and miss some, "
                "and %d of the %d were still missing after %d readings with other page sizes. Run again; if it keeps "
                "failing, report it with this message" % (url, self.order.noun, missing, reading.total, self.readings),
                url=url)
        return WaldurResponseError(
            "the list at %s could not be completed: the server's page order among %s with equal sort keys is not stable "
            "between pages, and %d of the %d %s could not be fetched on their own (%d readings). Narrow the listing (by "
            "settings or tenant, or by name), or give a page_size that the server does not cut the equal names with" % (
                url, self.order.noun, missing, reading.total, self.order.noun, self.readings), url=url)


def _paging_problem(pages, page_size):
    """Why ``pages`` cannot be one reading of a list, or None."""
    total = pages[0].total
    for number, page in enumerate(pages, start=1):
        if page is None:
            return "page %d, one of the %d pages a total of %d makes, no longer exists" % (number, len(pages), total)
        if page.total != total:
            return "the total changed from %d to %d while reading page %d" % (total, page.total, number)
        expected = max(min(page_size, total - (number - 1) * page_size), 0)
        if len(page.items) != expected:
            return "page %d has %d objects where %d were announced" % (number, len(page.items), expected)
        last = number == len(pages)
        if page.has_next is not None and page.has_next == last:
            if last:
                return "page %d, the last for a total of %d, links a next page (the total is wrong)" % (number, total)
            return "page %d links no next page although a total of %d makes %d pages" % (number, total, len(pages))
    return None
