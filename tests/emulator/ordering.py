"""The server's page order among equal sort keys: deterministic for one query, unstable across pages.

Waldur lists with ``ORDER BY <sort key>`` and ``LIMIT/OFFSET``. For a page PostgreSQL keeps the first
``offset + limit`` rows with a bounded heap sort (top-N), and rows with equal keys come out in the
heap's order: the same for the same query, another for another ``offset + limit``. So page k and page
k+1 can both hold one member of a tie group and neither hold another, every time (CONTRACT.md,
Pagination). ``page_slice`` reproduces it: each tie group that overlaps the page is ordered by a hash
of the query, ``offset + limit`` and the object's identity.

Lists in no order at all (usage_stats: ``SELECT DISTINCT`` without ``ORDER BY``) are one tie group
whose order is one of ``plans`` orders, chosen by the query and ``offset + limit``. With one plan the
order is the same at every page size, as measured on a real Waldur (386 and 5,386 distinct names,
50 to 300 per page: every walk complete, no repeat); with more, it shifts with the page, as it would
if the planner switched between hash and sort aggregation with the limit: an option (the server's
``shifting_usage_order``) for tests that a client survives it.
"""

from __future__ import annotations

import hashlib

PAGING_PARAMS = ("page", "page_size")


def query_key(request):
    """What identifies a query to the planner: its parameters without the paging ones."""
    return "&".join("%s=%s" % pair for pair in sorted(pair for pair in request.pairs if pair[0] not in PAGING_PARAMS))


def _digest(*parts):
    text = "\x00".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def page_slice(objects, start, stop, tie_key, identity, query, plans=None):
    """``objects[start:stop]`` as the server sends it: ``objects`` sorted by ``tie_key``, each tie group
    overlapping the page in the order of the top-N sort for ``offset + limit == stop``."""
    layout = stop if plans is None else _digest(query, stop)[0] % plans
    result = []
    index = start
    while index < stop:
        key = tie_key(objects[index])
        low = index
        while low > 0 and tie_key(objects[low - 1]) == key:
            low -= 1
        high = index + 1
        while high < len(objects) and tie_key(objects[high]) == key:
            high += 1
        group = objects[low:high]
        if len(group) > 1:
            group = sorted(group, key=lambda obj: _digest(query, layout, identity(obj)))
        end = min(high, stop)
        result.extend(group[index - low:end - low])
        index = end
    return result
