import numpy as np
import pandas as pd

from core import quality_charts as qc


def test_funnel_totals_follow_the_rules():
    fig = qc.rule_funnel([{"rule": "min_quality", "dropped": 30, "remaining": 70},
                          {"rule": "duplicates", "dropped": 20, "remaining": 50}], total=100)
    assert list(fig.data[0].x) == [100, 70, 50]
    assert list(fig.data[0].y) == ["input", "min_quality", "duplicates"]


def test_histogram_bin_counts_match_numpy_and_threshold_colours():
    values = pd.Series(np.linspace(0, 1, 101), name="quality")
    fig = qc.signal_histogram(values, threshold_min=0.5, bins=10)
    expected, _ = np.histogram(values, bins=10, range=(0, 1))
    assert list(fig.data[0].y) == list(expected) and sum(fig.data[0].y) == 101
    colors = list(fig.data[0].marker.color)
    assert colors[:5] == [qc.DROPPED_COLOR] * 5 and colors[5:] == [qc.KEPT_COLOR] * 5
    assert fig.layout.shapes[0].x0 == 0.5


def test_histogram_of_constant_or_empty_values_does_not_fail():
    assert sum(qc.signal_histogram(pd.Series([0.3] * 4)).data[0].y) == 4
    assert sum(qc.signal_histogram(pd.Series([], dtype=float)).data[0].y) == 0


def test_category_breakdown_splits_kept_and_dropped():
    fig = qc.category_breakdown(pd.Series(["en", "en", "de", None]), pd.Series([True, False, True, True]))
    kept, dropped = fig.data
    assert dict(zip(kept.x, kept.y, strict=True)) == {"en": 1, "de": 1, "(none)": 1}
    assert dict(zip(dropped.x, dropped.y, strict=True)) == {"en": 1, "de": 0, "(none)": 0}


def test_cluster_sizes_ignore_singletons():
    fig = qc.duplicate_cluster_sizes(pd.Series(["a", "a", "b", "c", "c", "c", "d"]))
    assert dict(zip(fig.data[0].x, fig.data[0].y, strict=True)) == {"2": 1, "3": 1}


def test_pii_by_type_counts_findings_and_items():
    signals = pd.DataFrame({"pii_email": [2, 0, 1], "pii_phone": [0, 0, 3]})
    findings, items = qc.pii_by_type(signals).data
    assert list(findings.y) == [3, 3] and list(items.y) == [2, 1]


def test_quality_over_time_and_comparison():
    frame = pd.DataFrame({"source_id": ["a", "a", "b"], "day": ["2026-01-01", "2026-01-01", "2026-01-02"],
                          "quality": [0.2, 0.4, 0.9]})
    fig = qc.quality_by_source_over_time(frame)
    assert [round(y, 2) for y in fig.data[0].y] == [0.3]
    cmp = qc.run_comparison({"min_quality": 3}, {"min_quality": 5, "pii": 1}, "run 1", "run 2")
    assert list(cmp.data[1].y) == [5, 1] and list(cmp.data[0].y) == [3, 0]


def test_quality_over_time_of_one_afternoon_reads_in_hours_with_every_point_visible():
    frame = pd.DataFrame({"source_id": ["a", "a", "b", "b"],
                          "day": ["2026-01-01T13:05:00Z", "2026-01-01T16:40:00Z", "2026-01-01T13:10:00Z",
                                  "2026-01-01T13:20:00Z"], "quality": [0.2, 0.4, 0.9, 0.7]})
    fig = qc.quality_by_source_over_time(frame)
    assert list(fig.data[0].x) == ["2026-01-01 13:00", "2026-01-01 16:00"]
    assert list(fig.data[1].x) == ["2026-01-01 13:00"] and [round(y, 2) for y in fig.data[1].y] == [0.8]
    assert fig.layout.xaxis.type == "category" and fig.data[0].marker.size >= 8


def test_scores_all_equal_sit_on_their_own_scale():
    fig = qc.signal_histogram(pd.Series([1.0] * 5), threshold_min=0.5)
    assert min(fig.data[0].x) > 0 and max(fig.data[0].x) < 1  # bins span 0..1, not 1..2
    assert sum(fig.data[0].y) == 5 and fig.data[0].y[-1] == 5


def test_funnel_uses_a_log_axis_when_small_stages_would_vanish():
    from core import charts

    small = charts.stage_funnel({"raw": 4000, "processed": 3900, "packaged": 1, "listed": 1, "sold": 1})
    assert small.layout.xaxis.type == "log"
    even = charts.stage_funnel({"raw": 40, "processed": 39, "validated": 20})
    assert even.layout.xaxis.type != "log"
