"""The live suite runs the collection through ansible-playbook as the integration tests do, with their fixtures."""
from __future__ import annotations

from tests.integration.conftest import run_cases, run_playbook  # noqa: F401  pylint: disable=unused-import  # shared fixtures
