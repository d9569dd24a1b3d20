# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options of every module and plugin. Their names, types, defaults and environment
    # variables are defined once, in module_utils/defaults.py; Ansible reads documentation as text, so it
    # is repeated here and a unit test (tests/unit/plugins/module_utils/test_defaults.py) holds them equal.
    DOCUMENTATION = r"""
requirements:
  - requests
options:
  api_url:
    description:
      - URL of the Waldur API.
      - V(https://waldur.example.com), V(https://waldur.example.com/api/) and a path prefix such as
        V(https://example.com/waldur/api/) are all accepted and mean the same API root (V(/api/) is appended when
        the URL does not end with it).
      - If not set, the value of the E(WALDUR_API_URL) environment variable is used.
    type: str
  api_token:
    description:
      - The Waldur API token, or an OIDC access token or personal access token with O(auth_scheme=Bearer).
      - If not set, the value of the E(WALDUR_API_TOKEN) environment variable is used.
      - It is only ever sent to the origin of O(api_url), never to a host named in a response.
    type: str
  auth_scheme:
    description:
      - The keyword of the C(Authorization) header.
      - V(Token) for Waldur API tokens, V(Bearer) for OIDC access tokens and personal access tokens (Waldur 8.0.7 and newer).
      - If not set, the value of the E(WALDUR_AUTH_SCHEME) environment variable is used.
    type: str
    choices: [Token, Bearer]
    default: Token
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the server.
      - Only set to V(false) on a test system you trust.
      - If not set, the value of the E(WALDUR_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of certificate authorities to trust, for a server with a private CA.
      - If not set, the value of the E(WALDUR_CA_PATH) environment variable is used; without either, the system trust store.
    type: path
  timeout:
    description:
      - The most seconds one attempt of a request may take in all, from connecting (TLS handshake included) to the
        last byte of the answer; an answer that trickles in slowly counts in full.
      - Connecting and the TLS handshake get at most 10 seconds of it. An C(https://) O(api_url) whose port answers
        plain HTTP fails at once with the C(http://) URL to give, within 15 seconds with the defaults.
      - Once a request of the task has failed, attempts are also cut to what is left of O(retry_budget).
      - If not set, the value of the E(WALDUR_TIMEOUT) environment variable is used.
    type: float
    default: 30
"""

    # What plugins add: Ansible's configuration reads the environment variables for them. The
    # descriptions, types and defaults come from DOCUMENTATION above, which every plugin extends too.
    PLUGINS = r"""
options:
  api_url:
    env:
      - name: WALDUR_API_URL
  api_token:
    env:
      - name: WALDUR_API_TOKEN
  auth_scheme:
    env:
      - name: WALDUR_AUTH_SCHEME
  validate_certs:
    env:
      - name: WALDUR_VALIDATE_CERTS
  ca_path:
    env:
      - name: WALDUR_CA_PATH
  timeout:
    env:
      - name: WALDUR_TIMEOUT
"""

    # Retries, for modules and plugins alike.
    RETRIES = r"""
options:
  retries:
    description:
      - How many times a request is retried after a 429, 502, 503 or 504 answer, a connection failure, a timeout, or a
        body cut short or corrupted on the way.
      - Retries wait with exponential backoff and full jitter; a C(Retry-After) from the server is waited as given (at
        most 120 seconds), or the task or run fails at once when it is longer than what is left of O(retry_budget).
      - V(0) disables retries. Requests that failed with 400, 401, 403 or 404 are never retried. A server that refuses
        connections is given up on after the backoff, under 8 seconds with the defaults.
    type: int
    default: 4
  retry_budget:
    description:
      - The most seconds the whole task or run may lose to failures - failed attempts, a timeout counted in full, and
        the waits between retries; requests made in parallel share it.
      - Once something has failed, every attempt is cut to what is left of it, and a request that would start with
        nothing left is not made. A task that cannot reach the server therefore fails within the longer of
        O(timeout) and O(retry_budget), 60 seconds with the defaults, whatever the kind of failure (refused,
        unreachable, no answer, a plain http server on an https URL, an answer that trickles in).
    type: float
    default: 60
"""

    # Listing options of everything that lists images.
    PAGING = r"""
options:
  page_size:
    description:
      - How many objects to ask for in each page. The server's maximum, V(300), needs the fewest requests.
      - Every page is fetched whatever the size; between V(1) and V(300).
    type: int
    default: 300
  max_workers:
    description:
      - How many pages are fetched at the same time once the first page has told the total.
      - V(1) fetches one page after the other. Results are always in the server's order.
    type: int
    default: 4
"""
