"""Monitoring (issue 16): is today's data, pipeline and model as good as last week's?

One module per view, each a plain function of the acting principal returning DataFrames or dicts:

    quality.py    data quality over time per dataset and source, with change markers
    pipeline.py   job durations, throughput, failures and retries per job kind and source
    drift.py      drift reports (via ml.drift.compare_frames), drift-triggered retraining
    accuracy.py   model accuracy per version once labels arrive
    feedback.py   labels given, by whom, and how they changed refinement decisions
    resources.py  CPU, memory, disk and store sizes sampled for a bounded window
    logs.py       warnings and errors in a bounded MongoDB `logs` collection, searchable and scoped
    alerts.py     thresholds per metric, evaluated into open/resolved alerts
    tick.py       the scheduler tick: sample, collect job problems, evaluate alerts
"""
