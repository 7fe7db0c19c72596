"""An API upload once its body is on disk: checked early, then handed to the streaming ingest
(core.sources.stream_ingest), which reads it a record at a time whatever its size."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from core.auth import Principal
from core.config import get_settings
from core.safe_names import upload_path_name
from core.sources.stream_ingest import check_dataset_usable, ingest_path


def upload_limit_bytes() -> int:
    """The largest body the API accepts: the streaming ingest's limit (INGEST_MAX_GB), not the browser's."""
    return int(get_settings().ingest_max_gb * 1e9)


def check_target(principal: Principal, dataset: str, app: str) -> None:
    """Refuse before a byte of the body is read when the dataset is someone else's or another app's."""
    check_dataset_usable(principal, dataset, app, principal.id)


@contextmanager
def spool_file(filename: str):
    """A path under DATA_DIR/tmp named like the upload (its suffix picks the parser), removed afterwards."""
    base = get_settings().data_dir / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="api-upload-", dir=base))
    try:
        yield directory / upload_path_name(filename)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def ingest_spooled(principal: Principal, path: Path, filename: str, *, app: str, dataset: str, license: str,
                   origin: str, notes: str) -> dict:
    return ingest_path(principal, path, app=app, dataset=dataset, license=license, attest=True, origin=origin,
                       notes=notes, filename=filename)
