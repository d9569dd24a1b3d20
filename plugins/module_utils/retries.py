# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When to retry a request and how long to wait: backoff with jitter, Retry-After, one budget per task."""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS

# A Retry-After beyond this is not waited for in full: the task would look hung.
MAX_RETRY_AFTER = 120.0


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (seconds or HTTP date), or None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class RetryPolicy:
    """Exponential backoff with full jitter, bounded by a count and a total waiting budget.

    One policy is shared by every request of a client (pages fetched in parallel included), so
    ``budget`` bounds the waiting of the whole task. A ``Retry-After`` the server sent is waited
    for as given (capped at MAX_RETRY_AFTER) instead of the backoff.
    """

    def __init__(self, retries=DEFAULTS["retries"], budget=DEFAULTS["retry_budget"], base=0.5, cap=30.0, sleep=time.sleep,
                 rng=None):
        self.retries = retries
        self.budget = budget
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.waited = 0.0
        self._lock = threading.Lock()

    def plan(self, attempt, retry_after=None):
        """``(seconds, None)`` to wait before retry number ``attempt`` (1-based), taken from the budget,
        or ``(None, reason)`` when no retry is left."""
        with self._lock:
            if attempt > self.retries:
                return None, "retries is %d" % self.retries
            if retry_after is not None:
                wait = retry_after
            else:
                wait = self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1))))
            left = self.budget - self.waited
            if retry_after is not None and wait > left:
                return None, "the server asked to wait %s s (Retry-After), more than the %s s left of retry_budget" % (
                    format_seconds(wait), format_seconds(max(left, 0)))
            if retry_after is None and left <= 0:
                return None, "the %s s of retry_budget are spent" % format_seconds(self.budget)
            wait = min(wait, left)
            self.waited += wait
            return wait, None

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before retry ``attempt`` (taken from the budget), or None if no retry is left."""
        return self.plan(attempt, retry_after)[0]

    def wait(self, seconds):
        self.sleep(seconds)


def format_seconds(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")
