from __future__ import annotations

from imaging_support import phantom_dir, series_copy

__all__ = ["phantom_dir", "series_copy"]
