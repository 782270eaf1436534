"""Pilot tests of monitoring in the app: the App-owned sampler, the header on every screen,
detail only while the Monitor screen shows, keys, instances, and the no-GPU state."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from comfy_tui.services.monitor import GpuReading, ReplayBackend, summarize, summary_line
from comfy_tui.services.monitor.text import gpu_details
from comfy_tui.ui.screens.models import ModelsScreen
from comfy_tui.ui.screens.monitor import MonitorScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.stats_feed import FEED_GROUP, INITIAL_SUMMARY, StatsSampled
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.gpu_card import GpuCard
from comfy_tui.ui.widgets.instances_card import InstancesCard
from comfy_tui.ui.widgets.status_strip import StatusStrip
from tests.fakes import monitor_boxes as boxes
from tests.fakes.fake_system import ReplaySystem
from tests.fakes.monitor_boxes import GatedSleep
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.monitor_helpers import run_ticks, settle
from tests.waiting import until


def header(app: object) -> str:
    strip = app.screen.query_one(StatusStrip)  # type: ignore[attr-defined]
    label = strip.query_one(".summary")
    assert str(label.render()) == strip.summary, "the label shows what the strip holds"
    return str(strip.summary)


async def test_header_summary_updates_every_tick_on_every_screen(tmp_path: Path) -> None:
    sleep = GatedSleep()
    # entering the Monitor screen takes a sample at once (the wait was a quiet one): two
    # ticks there, one on the other screens
    labels = ("idle", "load_0", "load_1", "load_1", "load_2", "after", "idle", "idle", "load_1")
    monitor = boxes.h200(labels, sleep=sleep)
    app = make_test_app(tmp_path, monitor=monitor)
    seen: list[str] = []
    async with app.run_test(size=SMALL) as pilot:
        assert header(app) == INITIAL_SUMMARY
        app.stats.start()
        taken = 0
        for key in ("1", "2", "3", "1", "2", "3", "1"):
            await pilot.press(key)
            if key == "3":
                taken += 1
                await settle(pilot, monitor, sleep, taken)
            if taken > 0:
                sleep.release()
            taken += 1
            await settle(pilot, monitor, sleep, taken)
            assert monitor.latest is not None
            expected = summary_line(summarize(monitor.latest))
            assert header(app) == expected, f"tick {taken} on screen {key}"
            seen.append(expected)
        assert isinstance(app.screen, VersionsScreen)
    assert seen[0] == "GPU 0% · VRAM 0.6/140.4 GiB · CPU 2% · RAM 0%"
    assert "GPU 100% · VRAM 7.2/140.4 GiB" in seen[-1]
    assert len(set(seen)) >= 3, "the header follows the readings"


async def test_switching_screens_shows_the_latest_summary_at_once(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await app.stats.sample_now()
        await pilot.pause()
        await pilot.press("2")
        assert isinstance(app.screen, ModelsScreen)
        assert header(app).startswith("GPU 0% · VRAM 0.6/140.4 GiB")


async def test_detail_is_sampled_only_while_the_monitor_screen_shows(tmp_path: Path) -> None:
    monitor = boxes.h200(("load_1",) * 4)
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        assert app.stats.monitor is monitor and monitor.detail is False
        cheap = await app.stats.sample_now()
        assert cheap.gpus[0].processes is None
        assert cheap.system.per_cpu_percent is None and cheap.system.disk_io is None
        # A hidden screen handles its suspend after the key: wait for it, not for the clock.
        await pilot.press("3")
        await until(pilot, lambda: monitor.detail is True, "detail on the Monitor screen")
        full = await app.stats.sample_now()
        assert full.gpus[0].processes is not None and full.system.per_cpu_percent is not None
        await pilot.press("question_mark")  # a dialog over the monitor hides it too
        await until(pilot, lambda: monitor.detail is False, "no detail under a dialog")
        await pilot.press("escape")
        await until(pilot, lambda: monitor.detail is True, "detail again")
        await pilot.press("2")
        await until(pilot, lambda: monitor.detail is False, "no detail on another screen")
        again = await app.stats.sample_now()
        assert again.gpus[0].processes is None


async def test_the_sampler_is_an_app_worker_not_a_job(tmp_path: Path) -> None:
    sleep = GatedSleep()
    monitor = boxes.h200(sleep=sleep)
    app = make_test_app(tmp_path, monitor=monitor, sampling=True)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot, monitor, sleep, 1)
        workers = [w for w in app.workers if w.group == FEED_GROUP]
        assert len(workers) == 1 and workers[0].node is app
        assert app.running_jobs() == []
        await pilot.press("3", "1", "3")
        assert [w for w in app.workers if w.group == FEED_GROUP] == workers, "survives switches"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0, "quitting does not ask about the sampler"


async def test_a_burst_of_ticks_collapses_to_the_latest(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        samples = [await app.stats.monitor.sample_once() for _ in range(5)]
        for sample in samples:
            app.post_message(StatsSampled(sample))
        await pilot.pause()
        assert app.stats.latest is samples[-1]
        assert app.stats.received < 5


async def test_pause_key_stops_and_restarts_sampling(tmp_path: Path) -> None:
    sleep = GatedSleep()
    monitor = boxes.h200(sleep=sleep)
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await run_ticks(pilot, monitor, sleep, 2)
        status = app.screen.query_one("#monitor-status", Line)
        assert "every 1s" in status.text and "paused" not in status.text
        await pilot.press("p")
        assert not app.stats.running
        assert "paused (p resumes)" in status.text
        await pilot.press("p")
        assert app.stats.running
        await settle(pilot, monitor, sleep, 3)  # a fresh sampler ticks at once
        assert "paused" not in status.text


async def test_plus_and_minus_change_the_interval(tmp_path: Path) -> None:
    sleep = GatedSleep()
    monitor = boxes.h200(sleep=sleep)
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await run_ticks(pilot, monitor, sleep, 1)
        await pilot.press("minus")
        assert monitor.interval == 2.0
        assert app.stats.running, "the sampler restarts on the new interval"
        await pilot.press("plus", "plus", "plus")
        assert monitor.interval == 0.5, "0.5 s is the fastest"
        status = app.screen.query_one("#monitor-status", Line)
        assert "every 0.5s" in status.text
        for _ in range(8):
            await pilot.press("minus")
        assert monitor.interval == 30.0, "30 s is the slowest"


async def test_instances_and_their_gpu_processes_are_named(tmp_path: Path) -> None:
    app = make_test_app(
        tmp_path,
        monitor=boxes.two_gpus(),
        instance_labels=lambda: {boxes.INSTANCE_ID: boxes.INSTANCE_LABEL},
    )
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("3")
        for _ in boxes.LOAD:
            await app.stats.sample_now()
        await pilot.pause()
        cards = {card.index: card for card in app.screen.query(GpuCard)}
        assert sorted(cards) == [0, 1]
        procs0 = cards[0].query_one(".gpu-procs", Line).text
        procs1 = cards[1].query_one(".gpu-procs", Line).text
        assert "pid 418" in procs0 and boxes.INSTANCE_LABEL in procs0
        assert "pid 90211" in procs1 and boxes.INSTANCE_LABEL not in procs1
        instances = app.screen.query_one(InstancesCard)
        assert instances.display
        text = instances.query_one(Line).text
        assert text.startswith(boxes.INSTANCE_LABEL) and "VRAM" in text and "GPU 0" in text
        assert app.screen.has_class("-wide") and app.screen.has_class("-gpu-two")


async def test_without_instances_the_card_stays_hidden(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, monitor=boxes.h200(boxes.LOAD))
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await app.stats.sample_now()
        await pilot.pause()
        assert not app.screen.query_one(InstancesCard).display
        assert not app.screen.has_class("-wide")


async def test_no_gpu_is_a_normal_state(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, monitor=boxes.no_gpu())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await app.stats.sample_now()
        await pilot.pause()
        reason = app.screen.query_one("#gpu-none-reason", Line).text
        assert reason.startswith("No NVIDIA GPU (NVML library not found)")
        assert not app.screen.query(GpuCard)
        assert header(app).startswith("no GPU · CPU")


async def test_gpu_cards_follow_the_set_of_gpus(tmp_path: Path) -> None:
    one, two = [GpuReading(index=0, name="A")], [GpuReading(0, "A"), GpuReading(1, "B")]
    monitor = boxes._monitor(
        ReplayBackend([one, two, one], cycle=False), ReplaySystem.from_fixture()
    )
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        counts = []
        for _ in range(3):
            await app.stats.sample_now()
            await pilot.pause()
            counts.append(len(app.screen.query(GpuCard)))
        assert counts == [1, 2, 1]
        card = app.screen.query_one(GpuCard)
        assert "n/a" in card.query_one(".gpu-details", Line).text, "missing readings say n/a"


async def test_a_failing_sampler_says_so_and_p_restarts_it(tmp_path: Path) -> None:
    class Broken(ReplayBackend):
        fail = True

        def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
            if Broken.fail:
                raise RuntimeError("sensor exploded")
            return super().sample(processes=processes)

    sleep = GatedSleep()
    monitor = boxes._monitor(
        Broken([[GpuReading(0, "A")]]), ReplaySystem.from_fixture(), sleep=sleep
    )
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        app.stats.start()
        await until(pilot, lambda: app.stats.error is not None, "the sampler to fail")
        assert app.stats.error == "sensor exploded"
        assert any("Monitoring stopped" in str(n.message) for n in app._notifications)
        status = app.screen.query_one("#monitor-status", Line)
        assert "stopped: sensor exploded" in status.text
        Broken.fail = False
        await pilot.press("p")
        await settle(pilot, monitor, sleep, 1)
        assert app.stats.error is None
        assert "every 1s" in app.screen.query_one("#monitor-status", Line).text


async def test_closing_the_app_releases_the_gpu_backend(tmp_path: Path) -> None:
    closed = asyncio.Event()

    class Spy(ReplayBackend):
        def close(self) -> None:
            closed.set()
            super().close()

    monitor = boxes._monitor(Spy([[GpuReading(0, "A")]]), ReplaySystem.from_fixture())
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await app.stats.sample_now()  # the backend is in use
        await pilot.press("q")
    assert closed.is_set()


def test_every_monitor_key_has_an_id_and_help() -> None:
    ids = [k.id for k in MonitorScreen.KEYS]
    assert ids == ["monitor-pause", "monitor-faster", "monitor-slower"]
    assert all(k.help and k.description for k in MonitorScreen.KEYS)


async def test_eight_gpus_scroll_at_80x24(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, monitor=boxes.eight_gpus())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await app.stats.sample_now()
        await pilot.pause()
        assert len(app.screen.query(GpuCard)) == 8
        body = app.screen.query_one("#monitor-body")
        assert body.max_scroll_y > 0, "8 GPUs do not fit in 80x24: the body scrolls"
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0, "the keyboard scrolls it"


async def test_cards_scrolled_out_of_view_are_drawn_when_scrolled_to(tmp_path: Path) -> None:
    monitor = boxes.eight_gpus()
    app = make_test_app(tmp_path, monitor=monitor)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        for _ in range(29):  # to the last idle reading: the next one is under load
            await monitor.sample_once()
        first = await app.stats.sample_now()  # every card drawn (before the layout)
        await pilot.pause()
        await pilot.pause()
        top, bottom = app.screen.query(GpuCard).first(), app.screen.query(GpuCard).last()

        def details(card: GpuCard, sample: Any) -> bool:
            gpu = next(g for g in sample.gpus if g.index == card.index)
            return bool(card.query_one(".gpu-details", Line).text == gpu_details(gpu))

        assert details(bottom, first)
        second = await app.stats.sample_now()  # in view: drawn; scrolled out: not
        await pilot.pause()
        await pilot.pause()
        assert details(top, second) and not details(top, first)
        assert details(bottom, first) and not details(bottom, second)
        await pilot.press("end")  # scrolled to: drawn with the newest sample
        await until(pilot, lambda: details(bottom, second), "the last card drawn")
