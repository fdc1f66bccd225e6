from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Real third-party files live in the repository so the suite runs on a fresh clone without ../shared.
REAL = REPO / "tests" / "data" / "real"
DATA = REPO / "tests" / "data"
# ../shared (benchmark and reference material beside the project) is not in a user's clone: a test that opens
# anything there would pass here and fail for them, so opening it fails the test that does.
SHARED = str(REPO.parent / "shared") + os.sep


def _no_shared(event: str, args: tuple) -> None:
    # a folder walk (listdir/scandir) into ../shared counts too: it reads what a user's clone does not have
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str | os.PathLike):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(SHARED) or path == SHARED[:-1]:
            raise RuntimeError(f"a test opened {path}: tests must use files in the repository (tests/data), "
                               "not ../shared, which a user's clone does not have")


sys.addaudithook(_no_shared)


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_dir() -> Path:
    return REAL


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


# Real files added after the pool's synthetic corpora were tuned: left out of it, so that a new real file does
# not reorder every synthetic corpus the suite builds.
# Fixtures added for one test each stay out of the pool, so a new one does not change every synthetic corpus.
NOT_IN_POOL = ("hiyouga__LLaMA-Factory/dpo_en_demo.arithmetic.json",
               "openai__openai-cookbook/01-testing-example.jsonl",
               "NovaSky-AI__SkyThought/aime24_sky_t1_14b_3rows.jsonl",
               "intercom__Intercom-OpenAPI/conversation_examples.json",
               "sjkingo__python-freshdesk/ticket_1.json", "sjkingo__python-freshdesk/conversations.json",
               "OpenBMB__ToolBench/G1_demo_DFS_woFilter_w2.json",
               "OpenBMB__ToolBench/82217_ChatGPT_DFS_woFilter_w2.json",
               "OpenBMB__ToolBench/127_ChatGPT_DFS_woFilter_w2.json")


@pytest.fixture(scope="session")
def sentence_pool() -> dict[str, list[str]]:
    """Sentences cut from the real files in tests/data/real (en, fr, zh, ko, ru), for synthetic corpora."""
    from curation.readers import expand_inputs
    from curation.synthetic import pool_from_files

    sources = [p for p in expand_inputs([str(REAL)]) if Path(p).relative_to(REAL).as_posix() not in NOT_IN_POOL]
    return pool_from_files(sources, latin={"vigogne": "fr"})


def _bounded_child(fn, args, queue) -> None:  # noqa: ANN001 - runs in a forked child
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - the parent re-raises what the child saw
        queue.put(("raised", f"{type(exc).__name__}: {exc}"))


@pytest.fixture
def bounded():
    """``bounded(fn, *args, timeout=s)`` runs ``fn`` in a forked child and fails the test if it takes longer
    (a hang cannot stall the suite). Returns fn's (picklable) result, or ``("raised", "Type: message")``."""
    import multiprocessing

    def run(fn, *args, timeout: float = 10.0):  # noqa: ANN001, ANN202
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_bounded_child, args=(fn, args, queue))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            pytest.fail(f"{getattr(fn, '__name__', fn)} did not finish within {timeout} s (a hang)")
        status, value = queue.get(timeout=5)
        return value if status == "ok" else ("raised", value)

    return run


@pytest.fixture(scope="session")
def ray_cluster():  # noqa: ANN201 - ray is an optional import
    """One local two-node Ray cluster (``ray.cluster_utils.Cluster``, ~10 s to start) for every test that needs
    one; each test module connects and disconnects on its own."""
    import ray
    from ray.cluster_utils import Cluster

    small = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
    cluster = Cluster(initialize_head=True, head_node_args={**small, "include_dashboard": False})
    cluster.add_node(**small)
    cluster.wait_for_nodes()
    yield cluster
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()
