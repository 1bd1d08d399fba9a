"""``export PATH`` writes only to a regular file (or standard output for ``-``).

An export renames a temporary file over its target, so anything else at PATH (a device node, a
FIFO, a symbolic link, a directory) would be replaced by a regular file holding the catalog (and
its keys). Each is refused in one line with exit code 2 and left as it was; the targets are
made in a temporary folder (never /dev).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from helpers import run_cli

from provider_store import ProviderStore
from provider_store.errors import InvalidDocumentError

SECRET = "sk-export-target-0123456789"


@pytest.fixture
def catalog(store: ProviderStore) -> str:
    store.add_provider("p", "http://127.0.0.1:1/v1")
    store.set_api_key("p", SECRET)
    return store.url


def _targets(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    real = tmp_path / "real.yaml"
    real.write_text("kept\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    dangling = tmp_path / "dangling.yaml"
    dangling.symlink_to(tmp_path / "nowhere.yaml")
    return {"a FIFO": fifo, "a symbolic link": link, "a symbolic link ": dangling}


def _state(path: Path) -> tuple[int, bytes | None]:
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), os.readlink(path).encode() if path.is_symlink() else None


@pytest.mark.parametrize("file_format", ["legacy", "litellm"])
def test_export_refuses_anything_but_a_regular_file_and_leaves_it_alone(
    catalog: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], file_format: str
) -> None:
    for kind, path in _targets(tmp_path).items():
        before = _state(path)
        code, out, err = run_cli(
            capsys, "--db", catalog, "export", "--format", file_format, str(path)
        )
        assert code == 2, (kind, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert f"not a regular file ({kind.strip()})" in err
        assert _state(path) == before
    assert (tmp_path / "real.yaml").read_text() == "kept\n"
    assert not (tmp_path / "nowhere.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.yaml",
        "fifo",
        "link.yaml",
        "real.yaml",
    ]  # fmt: skip  (no temporary file left behind)


def test_the_library_refuses_them_too(catalog: str, tmp_path: Path) -> None:
    with ProviderStore(catalog) as store:
        for path in [*_targets(tmp_path).values(), tmp_path]:
            with pytest.raises(InvalidDocumentError) as caught:
                store.export_yaml(path)
            assert "not a regular file" in str(caught.value)
        assert (tmp_path / "real.yaml").read_text() == "kept\n"


def test_a_regular_file_and_standard_output_still_work(
    catalog: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    code, _, err = run_cli(capsys, "--db", catalog, "export", str(target))
    assert code == 0, err
    assert SECRET in target.read_text() and stat.S_IMODE(target.stat().st_mode) == 0o600
    code, out, err = run_cli(capsys, "--db", catalog, "export", "--redact-keys", "-")
    assert code == 0, err
    assert out.startswith("providers:") and SECRET not in out
