"""32 clients answering 32 cases at once: every 2xx answer is in the store afterwards, and no 500.

The clients run as coroutines on the app's event loop (``asyncio.gather``), so the
server's thread pool and the store's per-thread connections meet real contention;
each client signs in with its own token or session. Nothing here is timed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from screening.store import Store

from .conftest import Site
from .states import all_no

CLIENTS = 32


async def _one_client(app: Any, token: str, index: int) -> tuple[str, dict[str, object], list[int]]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 30000 + index))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        created = await http.post("/api/cases", json={"instrument": "freda-kortfragor", "case_ref": f"C-{index}"})
        statuses = [created.status_code]
        if created.status_code != 201:
            return "", {}, statuses
        aid = created.json()["id"]
        acknowledged: dict[str, object] = {}
        for item, value in all_no().items():
            # every client also reads between writes, as a case system polling progress would
            response = await http.put(f"/api/cases/{aid}/answers/{item}", json={"value": value})
            statuses.append(response.status_code)
            if 200 <= response.status_code < 300:
                acknowledged[item] = value
            statuses.append((await http.get(f"/api/cases/{aid}")).status_code)
        statuses.append((await http.post(f"/api/cases/{aid}/complete")).status_code)
        return aid, acknowledged, statuses


def test_32_clients_answering_at_once_lose_nothing(site: Site) -> None:
    async def run() -> list[tuple[str, dict[str, object], list[int]]]:
        return await asyncio.gather(*(_one_client(site.app, site.tokens["sys"], i) for i in range(CLIENTS)))

    results = site.loop.run(run())
    statuses = [s for _, _, ss in results for s in ss]
    assert 500 not in statuses and not any(s >= 500 for s in statuses), sorted(set(statuses))
    assert all(aid for aid, _, _ in results), "a case could not be started"
    assert sum(len(acked) for _, acked, _ in results) == CLIENTS * len(all_no())  # the store kept up: all 2xx
    with Store.open(site.store) as st:
        for aid, acknowledged, _ in results:
            assert st.answers(aid) == acknowledged, aid
            assert st.get(aid).status == "completed"
            assert st.results(aid)
        assert len(list(st.list_assessments(team="a"))) == CLIENTS
