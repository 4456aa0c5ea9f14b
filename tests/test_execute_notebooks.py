"""The book's notebook executor (book/_ext/execute_notebooks.py): a poll whose wake-up is missed still ends.

The decision guide's execution hung now and then: the kernel's reply sat in the client's shell
socket while the client's asyncio poll never woke. The executor polls in slices; these tests give
the channel a socket whose open-ended poll never wakes up, as that socket's did.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import execute_notebooks  # noqa: E402


class MissedWakeupSocket:
    """A socket holding ``messages``: a poll without a timeout never wakes; a timed one finds them."""

    def __init__(self, messages):
        self.messages = list(messages)

    async def poll(self, timeout=None):
        if timeout is None:
            await asyncio.Event().wait()  # the wake-up that never comes
        await asyncio.sleep(timeout / 1000)
        return 1 if self.messages else 0


def channel(messages) -> AsyncZMQSocketChannel:
    ch = AsyncZMQSocketChannel.__new__(AsyncZMQSocketChannel)
    ch.socket = MissedWakeupSocket(messages)

    async def recv():
        return ch.socket.messages.pop(0)

    ch._recv = recv
    return ch


@pytest.fixture
def sliced(monkeypatch):
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", AsyncZMQSocketChannel.get_msg)
    monkeypatch.setattr(execute_notebooks, "POLL_SLICE", 0.05)
    execute_notebooks.poll_in_slices()


def test_without_slices_a_missed_wakeup_waits_for_ever():
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(channel([{"msg": "reply"}]).get_msg(timeout=None), 0.5))


def test_sliced_polls_read_the_message_a_wakeup_missed(sliced):
    reply = asyncio.run(asyncio.wait_for(channel([{"msg": "reply"}]).get_msg(timeout=None), 5))
    assert reply == {"msg": "reply"}


def test_sliced_polls_keep_the_timeout(sliced):
    with pytest.raises(Empty):
        asyncio.run(asyncio.wait_for(channel([]).get_msg(timeout=0.2), 5))
    with pytest.raises(Empty):
        asyncio.run(channel([]).get_msg(timeout=0))
    assert asyncio.run(channel([{"msg": 1}]).get_msg(timeout=0)) == {"msg": 1}


def test_the_intro_page_runs_with_the_chapters_and_matches_the_cache_key_myst_nb_computes(tmp_path):
    """intro.md (a MyST Markdown notebook, the book's root) runs side by side with the chapters,
    read as myst-nb reads it, so that Sphinx finds it cached instead of executing it alone."""
    from jupyter_cache import get_cache
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    root = Path(__file__).resolve().parents[1]
    notebooks = execute_notebooks.toc_notebooks(root)
    intro = root / "book" / "intro.md"
    assert notebooks[0] == intro and all(p.suffix == ".ipynb" for p in notebooks[1:])
    assert not any(p.name in {"running.md", "api.md", "glossary.md"} for p in notebooks)

    reader = create_nb_reader(str(intro), MdParserConfig(), NbParserConfig(), intro.read_text())
    as_sphinx_reads = reader.read(intro.read_text())
    ours = execute_notebooks.read_notebook(intro)
    assert any(c.cell_type == "code" for c in ours.cells)
    cache = get_cache(str(tmp_path))
    assert cache.create_hashed_notebook(ours)[1] == cache.create_hashed_notebook(as_sphinx_reads)[1]


def test_a_change_to_the_package_empties_the_execution_cache(tmp_path):
    """jupyter-cache keys a notebook by its code; a figure also depends on the package's code."""
    import nbformat

    root, cache_dir = tmp_path / "book-root", tmp_path / "cache"
    module = root / execute_notebooks.PACKAGE / "figures.py"
    module.parent.mkdir(parents=True)
    module.write_text("WIDTH = 7\n")
    executed = tmp_path / "a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), executed)

    def cached() -> int:
        return len(execute_notebooks.cache_for(root, cache_dir).list_cache_records())

    cache = execute_notebooks.cache_for(root, cache_dir)
    cache.cache_notebook_file(executed, check_validity=False)
    assert cached() == 1  # the same package: the cache is kept
    module.write_text("WIDTH = 8\n")
    assert cached() == 0  # the package changed: every notebook runs again
    cache = execute_notebooks.cache_for(root, cache_dir)
    cache.cache_notebook_file(executed, check_validity=False)
    assert cached() == 1
