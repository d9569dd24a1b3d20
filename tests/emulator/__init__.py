"""Waldur API emulator for the waldur.cloud collection's tests (standard library only).

``from tests.emulator import WaldurEmulator, generate_dataset, load_dataset, dump_dataset``
"""

from .dataset import dump_dataset, generate_dataset, load_dataset
from .server import WaldurEmulator
from .store import DEFAULT_SERVER_VERSION, LEGACY_SERVER_VERSION

__all__ = [
    "DEFAULT_SERVER_VERSION",
    "LEGACY_SERVER_VERSION",
    "WaldurEmulator",
    "dump_dataset",
    "generate_dataset",
    "load_dataset",
]
