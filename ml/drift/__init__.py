"""Drift detection: compare a current table with a reference column by column (no streamlit, no stores).

    from ml.drift import compare_frames
    report = compare_frames(reference_df, current_df)   # {"columns": {...}, "drifted": [...], "summary": [...]}

See docs/drift.md for the detectors, thresholds and measured precision and recall.
"""

from ml.drift.report import DEFAULT_ALPHA, compare_frames

__all__ = ["DEFAULT_ALPHA", "compare_frames"]
