"""Idle turns: work that can wait runs only when every other task is blocked, one waiter at a time."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from crawler.idle import IdleTurnsStatistics, open_idle_turns


async def test_a_turn_waits_for_busy_tasks() -> None:
    """A waiter gets no turn while another task still has steps to take (each a checkpoint)."""
    log: list[str] = []

    async def busy() -> None:
        for i in range(50):
            log.append(f"busy {i}")
            await trio.lowlevel.checkpoint()

    async def low() -> None:
        await idle.wait_turn()
        log.append("low")

    async with open_idle_turns() as idle, trio.open_nursery() as nursery:
        nursery.start_soon(low)
        nursery.start_soon(busy)
    assert log[-1] == "low" and len(log) == 51
    assert idle.statistics().given == 1


async def test_one_waiter_a_turn_in_arrival_order() -> None:
    """Waiters are woken one per idle moment (not all at once), first come first served."""
    log: list[str] = []
    queued = trio.Event()

    async def busy() -> None:               # no idle moment until all three wait
        while not queued.is_set():
            await trio.lowlevel.checkpoint()

    async def low(name: str) -> None:
        await idle.wait_turn()
        log.append(f"{name} starts")
        await trio.lowlevel.checkpoint()    # a step of its own: no other waiter runs meanwhile
        log.append(f"{name} ends")

    async with open_idle_turns() as idle, trio.open_nursery() as nursery:
        nursery.start_soon(busy)
        for n, name in enumerate("cab", start=1):
            nursery.start_soon(low, name)
            while idle.statistics().waiting < n:
                await trio.lowlevel.checkpoint()
        queued.set()
    assert log == ["c starts", "c ends", "a starts", "a ends", "b starts", "b ends"]


async def test_a_turn_comes_while_a_task_sleeps(autojump_clock: object) -> None:
    """Blocked on a timer counts as blocked: the waiter does not wait for the sleeper."""
    when: list[float] = []

    async def sleeper() -> None:
        await trio.sleep(10)

    async def low() -> None:
        await idle.wait_turn()
        when.append(trio.current_time())

    async with open_idle_turns() as idle, trio.open_nursery() as nursery:
        nursery.start_soon(sleeper)
        nursery.start_soon(low)
    assert when == [0.0]


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async with open_idle_turns() as idle:
        with trio.move_on_after(0) as scope:
            await idle.wait_turn()
        assert scope.cancelled_caught
        assert idle.statistics().waiting == 0 and idle.statistics().lapsed == 1
        await idle.wait_turn()              # the turns still work after it
        assert idle.statistics().given == 1


async def test_patience_ends_a_wait_that_gets_no_turn() -> None:
    """A task that never blocks (a fast stream, say) leaves no idle moment: the waiter goes on
    after its patience all the same (10 ms of real time: a busy loop leaves MockClock still)."""
    done = trio.Event()

    async def busy() -> None:
        while not done.is_set():
            await trio.lowlevel.checkpoint()

    with trio.fail_after(5):
        async with open_idle_turns() as idle, trio.open_nursery() as nursery:
            nursery.start_soon(busy)
            await idle.wait_turn(patience=0.01)
            done.set()
    assert idle.statistics() == IdleTurnsStatistics(waiting=0, given=0, lapsed=1)


async def test_after_the_turns_close_waiting_is_a_checkpoint() -> None:
    async with open_idle_turns() as idle:
        pass
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await idle.wait_turn()          # still a checkpoint: it honours cancellation
    await idle.wait_turn()
    assert idle.statistics().given == 0


def test_the_wait_is_trios_own() -> None:
    """crawler.idle takes trio.testing's wait from trio's core (trio.testing imports pytest)."""
    import crawler.idle

    assert crawler.idle.wait_all_tasks_blocked is trio.testing.wait_all_tasks_blocked
