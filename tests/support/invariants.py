"""The design's invariants, asserted on a world after a scenario."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from support.sync_world import World


def mapped_items(world: World) -> set[str]:
    return {offer.item for offer in world.config.offers}


def assert_invariants(world: World, before: dict[str, dict[str, object]]) -> None:
    after = world.invoices()
    # 1. Idempotent: planning again (on the snapshot the run took last) changes nothing.
    assert world.plan()["changes"] == []
    # 2. Never a duplicate invoice.
    guids = Counter(i["external_guid"] for i in after.values() if i["external_guid"])
    assert all(count == 1 for count in guids.values()), guids
    # 3. Never lose or alter a line that does not hold a mapped item.
    mapped = mapped_items(world)
    for txn_id, invoice in before.items():
        kept = [line for line in invoice["lines"] if line[1] not in mapped]
        assert set(kept) <= set(after[txn_id]["lines"]), txn_id
    # 5. Never touch a sent, paid or partly paid invoice.
    for txn_id, invoice in before.items():
        if invoice["is_paid"] or invoice["applied"] not in (None, "0.00"):
            assert after[txn_id]["edit_sequence"] == invoice["edit_sequence"], txn_id
    # 6. Never write a unit price.
    for request in world.store.queue.requests(world.company.id):
        root = etree.fromstring(request.qbxml.encode())
        assert not root.xpath("//Rate | //RatePercent | //PriceLevelRef"), request.label
