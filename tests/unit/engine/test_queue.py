"""The keyed delay queue: one entry per key, earliest due wins, never two workers on one key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cloudmodel_operator.engine.queue import DelayQueue, Item


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def dispatched() -> AsyncIterator[tuple[DelayQueue[str], Clock]]:
    clock = Clock()
    queue: DelayQueue[str] = DelayQueue(capacity=2, clock=clock)
    task = asyncio.create_task(queue.dispatch())
    yield queue, clock
    queue.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def next_item(queue: DelayQueue[str]) -> Item[str]:
    async with asyncio.timeout(2):
        return await queue.get()


async def test_due_keys_come_out_in_due_order(dispatched: tuple[DelayQueue[str], Clock]) -> None:
    queue, _ = dispatched
    queue.add("late", 0.0)
    queue.add("early", -5.0)  # overdue
    assert [(await next_item(queue)).key for _ in range(2)] == ["early", "late"]


async def test_adding_a_waiting_key_keeps_one_entry_with_the_earlier_due(
    dispatched: tuple[DelayQueue[str], Clock],
) -> None:
    queue, clock = dispatched
    queue.add("a", 100.0)
    queue.add("a", 50.0)
    queue.add("a", 200.0)
    assert len(queue) == 1
    assert queue.when("a") == clock.now + 50.0


async def test_a_key_is_not_handed_out_twice_while_in_work(dispatched: tuple[DelayQueue[str], Clock]) -> None:
    queue, clock = dispatched
    queue.add("a", 0.0)
    first = await next_item(queue)
    queue.add("a", 0.0)  # changed while a worker has it
    assert queue.in_flight == 1
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await queue.get()
    queue.done(first.key)  # now it comes back, once
    again = await next_item(queue)
    assert again.key == "a"
    assert again.due == clock.now


async def test_forget_drops_a_waiting_key_and_one_coming_back(
    dispatched: tuple[DelayQueue[str], Clock],
) -> None:
    queue, _ = dispatched
    queue.add("gone", 0.0)
    item = await next_item(queue)
    queue.add("gone", 0.0)
    queue.forget("gone")
    queue.done(item.key)
    queue.add("other", 0.0)
    assert (await next_item(queue)).key == "other"
    assert len(queue) == 0


async def test_keys_not_due_wait_for_their_time() -> None:
    queue: DelayQueue[str] = DelayQueue(capacity=1)
    task = asyncio.create_task(queue.dispatch())
    try:
        queue.add("later", 0.3)
        queue.add("now", 0.0)
        assert (await next_item(queue)).key == "now"
        assert queue.due_now() == 0
        queue.done("now")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert (await next_item(queue)).key == "later"
        assert loop.time() - started >= 0.2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_full_pool_holds_due_keys_back_in_order(dispatched: tuple[DelayQueue[str], Clock]) -> None:
    queue, _ = dispatched
    for n in range(5):
        queue.add(f"k{n}", -10.0 + n)  # all overdue, k0 the most
    taken = [await next_item(queue) for _ in range(2)]  # capacity 2: two are handed out
    assert [i.key for i in taken] == ["k0", "k1"]
    assert queue.due_now() == 3  # the rest wait (due, counted as backlog), most overdue first
    for item in taken:
        queue.done(item.key)
    order = []
    for _ in range(3):
        item = await next_item(queue)
        order.append(item.key)
        queue.done(item.key)
    assert order == ["k2", "k3", "k4"]
