"""pipeline.memory: what a step freed goes back to the system, and both jobs do it after
every step; and step outputs are pickled without copying their Arrow buffers."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from pipeline import jobs, memory
from pipeline.memory import release_memory
from pipeline.resources import step_outputs


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_a_step_freed_in_arrow_s_pool_goes_back_to_the_system() -> None:
    """Arrow's pool keeps freed string columns for reuse; without the release, all
    them (200 MB here) stay resident after they are gone."""
    columns = [pa.array(["twinned with " + str(n)] * 10_000) for n in range(1_000)]
    assert pa.total_allocated_bytes() > 150_000_000
    del columns
    gc.collect()
    kept = resident_mb()
    release_memory()
    assert kept - resident_mb() > 100


def test_both_jobs_release_memory_after_every_step() -> None:
    assert jobs.release_job.hooks == {jobs.release_memory_hook}
    assert jobs.refresh_job.hooks == {jobs.release_memory_hook}


def test_the_hook_runs_after_each_step(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(jobs, "release_memory", lambda: calls.append("released"))

    @dg.asset
    def first() -> int:
        return 1

    @dg.asset
    def second(first: int) -> int:
        return first + 1

    job = dg.define_asset_job("two", hooks={jobs.release_memory_hook})
    defs = dg.Definitions(assets=[first, second], jobs=[job])
    result = defs.resolve_job_def("two").execute_in_process()
    assert result.success
    assert calls == ["released", "released"]


class Cycle:
    """Refers to itself, as a finished step's context does, and holds a table."""

    def __init__(self) -> None:
        self.me = self
        self.table = pa.array(["x"] * 1_000)


@pytest.mark.parametrize(("growth", "collected"), [(0, True), (1 << 60, False)])
def test_cyclic_garbage_is_collected_once_the_process_has_grown(
    monkeypatch: pytest.MonkeyPatch, growth: int, collected: bool
) -> None:
    monkeypatch.setattr(memory, "COLLECT_AFTER_GROWTH_BYTES", growth)
    gc.disable()
    try:
        gone = weakref.ref(Cycle())
        assert gone() is not None  # garbage, but only the cyclic collector frees it
        assert memory.MemoryRelease()() is collected
        assert (gone() is None) is collected
    finally:
        gc.enable()
        gc.collect()


def test_a_large_process_is_walked_again_only_once_it_has_grown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Growth counts from the smallest size since the last collection: a test session or a
    build that stays large pays for one collection, not one per step."""
    monkeypatch.setattr(memory, "COLLECT_AFTER_GROWTH_BYTES", 1_000)
    monkeypatch.setattr(memory, "CHEAP_COLLECTION_SECONDS", -1.0)  # never cheap here
    # (resident before, resident after) for each step's release
    sizes = [(5_000, 4_000), (4_500, 4_200), (4_900, 4_800), (5_000, 4_100)]
    sizes += [(4_500, 3_000), (3_900, 3_800), (4_000, 3_500)]
    readings = iter(size for pair in sizes for size in pair)
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(readings))
    release = memory.MemoryRelease()
    assert [release() for _ in sizes] == [True, False, False, True, False, False, True]


def test_collecting_after_every_step_while_it_is_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build whose collections are cheap (its index frozen) collects after every step,
    whatever its growth; once one is dear, only growth brings the next."""
    monkeypatch.setattr(memory, "COLLECT_AFTER_GROWTH_BYTES", 1_000)
    sizes = [(5_000, 5_000)] * 5 + [(6_000, 5_000)]
    readings = iter(size for pair in sizes for size in pair)
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(readings))
    # each collection's (start, end): 0.01 s, 0.01 s, 0.5 s, then 0.01 s
    clock = iter([0.0, 0.01, 1.0, 1.01, 2.0, 2.5, 3.0, 3.01])
    monkeypatch.setattr(memory, "perf_counter", lambda: next(clock))
    release = memory.MemoryRelease()
    assert [release() for _ in sizes] == [True, True, True, False, False, True]
    assert release.cost == pytest.approx(0.01)


def test_unknown_size_always_collects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "resident_bytes", lambda: None)
    release = memory.MemoryRelease()
    assert [release(), release()] == [True, True]


def test_resident_memory_is_read_from_proc() -> None:
    resident = memory.resident_bytes()
    assert resident is not None and abs(resident / 2**20 - resident_mb()) < 50


def test_step_outputs_are_pickled_with_protocol_5_where_dagster_keeps_them(
    tmp_path: Path,
) -> None:
    """Protocol 5 writes a frame's Arrow buffers as they are (protocol 4 copies each into
    bytes first); the file is where Dagster's filesystem IO manager keeps it."""
    frame = pd.DataFrame({"city": pd.Series(["Köln", None], dtype="str"), "n": [1, 2]})

    @dg.asset(key_prefix=["tables"])
    def cities() -> pd.DataFrame:
        return frame

    @dg.asset
    def count(cities: pd.DataFrame) -> int:
        return len(cities)

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.materialize(
            [cities, count], instance=instance, resources={"io_manager": step_outputs}
        )
        stored = Path(instance.storage_directory()) / "tables" / "cities"
    assert result.success
    assert result.output_for_node("count") == 2
    assert stored.read_bytes()[:2] == b"\x80\x05"
    pd.testing.assert_frame_equal(pd.read_pickle(stored), frame)


def test_the_definitions_keep_step_outputs_with_protocol_5() -> None:
    from pipeline.definitions import build_definitions

    assert build_definitions().resources["io_manager"] is step_outputs
