"""100,000 images: generation and serving stay fast; answers stay correct.

Times are reported, never asserted (the machine is shared and noisy; `make bench` measures the
emulator's page time); correctness is asserted strictly.
"""

from __future__ import annotations

import http.client
import sys
import time

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch

N_IMAGES = 100000


def test_100k_images(capsys):
    start = time.perf_counter()
    dataset = generate_dataset(images=N_IMAGES, tenants=12, settings=3, seed=1)
    generated = time.perf_counter() - start
    assert len(dataset["images"]) == N_IMAGES
    default = dataset["visibility"]["user"]["default_list"]
    everything = dataset["visibility"]["staff"]["images"]
    start = time.perf_counter()
    # Page slices are compared with the truth, so ties are served in a stable order here.
    with WaldurEmulator(dataset, unstable_ties=False) as emu:
        started = time.perf_counter() - start
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=60)
        timings = {}
        try:
            def page(path, token):
                begin = time.perf_counter()
                reply = fetch(emu.url, path, token, conn=conn)
                timings.setdefault(path, []).append(time.perf_counter() - begin)
                assert reply.status == 200, reply
                return reply

            user, staff = emu.tokens["user"], emu.tokens["staff"]
            last = (len(default) + 299) // 300
            for number in (1, 2, last // 2, last):
                path = "/api/openstack-images/?page_size=300&page=%d" % number
                for _repeat in range(3):
                    reply = page(path, user)
                assert reply.count == len(default)
                assert [i["uuid"] for i in reply.json()] == default[(number - 1) * 300:number * 300]
            reply = page("/api/openstack-images/?page_size=300&show_duplicate_names=true&page=last", staff)
            assert reply.count == N_IMAGES
            assert [i["uuid"] for i in reply.json()] == everything[(len(everything) - 1) // 300 * 300:]
            for _repeat in range(3):
                reply = page("/api/openstack-images/?page_size=300&name=UBUNTU-22&page=2", user)
            assert all("ubuntu-22" in i["name"].lower() for i in reply.json())
            for _repeat in range(2):
                reply = page("/api/openstack-images/usage_stats/?page_size=300&page=3&service_provider=%s"
                             % dataset["service_settings"][0]["uuid"], user)
            assert reply.count == len(dataset["usage_stats"])
        finally:
            conn.close()
    warm = sorted(min(values[1:]) for values in timings.values() if len(values) > 1)
    with capsys.disabled():
        sys.stderr.write("\n100k images: generated in %.2fs, emulator started in %.2fs, warm 300-item pages %s ms\n" % (
            generated, started, ", ".join("%.2f" % (value * 1000) for value in warm)))
