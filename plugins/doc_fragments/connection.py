# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every module. Modules read the environment variables
    # themselves (see ConnectionSettings.from_options in module_utils/connection.py) so that
    # error messages can say where a credential came from.
    DOCUMENTATION = r"""
requirements:
  - requests
options:
  api_url:
    description:
      - URL of the Waldur API.
      - V(https://waldur.example.com), V(https://waldur.example.com/api/) and a path prefix such as
        V(https://example.com/waldur/api/) are all accepted and mean the same API root.
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
      - If not set, the value of the E(WALDUR_AUTH_SCHEME) environment variable is used, and V(Token) if that is not set either.
    type: str
    choices: [Token, Bearer]
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the server.
      - Only set to V(false) on a test system you trust.
      - If not set, the value of the E(WALDUR_VALIDATE_CERTS) environment variable is used, and V(true) if that is not set either.
    type: bool
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of certificate authorities to trust, for a server with a private CA.
      - If not set, the value of the E(WALDUR_CA_PATH) environment variable is used; without either, the system trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for the server to connect and for each response.
      - If not set, the value of the E(WALDUR_TIMEOUT) environment variable is used, and V(30) if that is not set either.
    type: float
"""

    # The same options for inventory and lookup plugins, which read environment variables
    # through Ansible's configuration system.
    PLUGINS = r"""
requirements:
  - requests
options:
  api_url:
    description:
      - URL of the Waldur API.
      - V(https://waldur.example.com), V(https://waldur.example.com/api/) and a path prefix such as
        V(https://example.com/waldur/api/) are all accepted and mean the same API root.
    type: str
    env:
      - name: WALDUR_API_URL
  api_token:
    description:
      - The Waldur API token, or an OIDC access token or personal access token with O(auth_scheme=Bearer).
      - It is only ever sent to the origin of O(api_url), never to a host named in a response.
    type: str
    env:
      - name: WALDUR_API_TOKEN
  auth_scheme:
    description:
      - The keyword of the C(Authorization) header.
      - V(Token) for Waldur API tokens, V(Bearer) for OIDC access tokens and personal access tokens (Waldur 8.0.7 and newer).
    type: str
    choices: [Token, Bearer]
    default: Token
    env:
      - name: WALDUR_AUTH_SCHEME
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the server.
    type: bool
    default: true
    env:
      - name: WALDUR_VALIDATE_CERTS
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of certificate authorities to trust, for a server with a private CA.
    type: path
    env:
      - name: WALDUR_CA_PATH
  timeout:
    description:
      - Seconds to wait for the server to connect and for each response.
    type: float
    default: 30
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
      - V(0) disables retries. Requests that failed with 400, 401, 403 or 404 are never retried.
    type: int
    default: 4
  retry_budget:
    description:
      - The most seconds spent waiting between retries, over the whole task or run; requests made in parallel share it.
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
