"""A package version as a zip written to a temporary file, so a download streams from disk.

core.market.downloads.package_archive builds the same zip in memory for st.download_button; a
multi-gigabyte package must not be held in the API process's memory, so this writes it out instead
(same layout: the version directory as it is, symlinks left out, compressed formats stored).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from core.config import get_settings
from core.market.downloads import _STORED_SUFFIXES, DownloadError


def write_package_archive(package_path: str | Path) -> Path:
    """The zip's path under DATA_DIR/tmp; the caller removes it once sent."""
    root = Path(package_path)
    if not root.is_dir():
        raise DownloadError("The files of this package are not available right now; contact the seller.")
    directory = get_settings().data_dir / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="download-", suffix=".zip", dir=directory)
    os.close(handle)
    try:
        with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_symlink() or not path.is_file():
                    continue  # a symlink could lead outside the package
                stored = path.suffix.lower() in _STORED_SUFFIXES
                archive.write(path, path.relative_to(root).as_posix(),
                              compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)
