# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When to retry a request and how long to wait: backoff with jitter, Retry-After, one time budget per task."""

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
    """Exponential backoff with full jitter, bounded by a count and by the time a task may lose to failures.

    One policy is shared by every request of a client (pages fetched in parallel included), so
    ``budget`` bounds the whole task: the seconds spent on failed attempts (a timeout counts in full)
    and on the waits between retries. Once something has failed, each attempt is cut to what is left
    of the budget, and none is started when nothing is left; before that, an attempt gets the whole
    ``timeout``. So failures cost a task at most ``max(timeout, budget)`` seconds. A ``Retry-After``
    the server sent is waited for as given (capped at MAX_RETRY_AFTER) instead of the backoff.
    """

    def __init__(self, retries=DEFAULTS["retries"], budget=DEFAULTS["retry_budget"], base=0.5, cap=30.0, sleep=time.sleep,
                 rng=None):
        self.retries = retries
        self.budget = budget
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.spent = 0.0
        self.failed = False
        self._lock = threading.Lock()

    def attempt_timeout(self, timeout):
        """Seconds the next attempt may take: ``timeout``, cut to what failures left of the budget; None if nothing is left."""
        with self._lock:
            if not self.failed:
                return timeout
            left = self.budget - self.spent
            return min(timeout, left) if left > 0 else None

    def charge(self, seconds):
        """Count the seconds a failed attempt took against the budget."""
        with self._lock:
            self.failed = True
            self.spent += seconds

    def plan(self, attempt, retry_after=None):
        """``(seconds, None)`` to wait before retry number ``attempt`` (1-based), taken from the budget,
        or ``(None, reason)`` when no retry is left."""
        with self._lock:
            if attempt > self.retries:
                return None, "retries is %d" % self.retries
            left = self.budget - self.spent
            if retry_after is not None:
                if retry_after >= left:
                    return None, "the server asked to wait %s s (Retry-After), more than the %s s left of retry_budget" % (
                        format_seconds(retry_after), format_seconds(max(left, 0)))
                wait = retry_after
            else:
                if left <= 0:
                    return None, "the %s s of retry_budget are spent" % format_seconds(self.budget)
                # At most half of what is left: the retry itself gets at least as long as the wait before it.
                wait = min(self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1)))), left / 2)
            self.spent += wait
            return wait, None

    def wait(self, seconds):
        self.sleep(seconds)


def format_seconds(value):
    """Seconds for a message: ``30``, ``0.5``, ``1.2``; below one second, two significant digits (``0.001``, never ``0``)."""
    if value == 0 or abs(value) >= 1:
        return ("%.1f" % value).rstrip("0").rstrip(".")
    return "%s" % float("%.2g" % value)
