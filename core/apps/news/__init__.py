"""News and content: summaries, sentiment and bias indicators, topics, storage, digests (issue 13).

Modules, smallest first: `sentences` (splitting), `summarize` (local extractive summarizer and the
TextRank baseline), `openai_summaries` (the OpenAI adapter with its fallback), `sentiment` and `bias`
(explainable indicators with their evidence), `topics` (labelled topic groups, ML Lab hook),
`store` (Mongo beside the raw article + SQL rows), `service` (principal-checked entry points and the
`news_analyze` job), `digest` (daily/weekly reports), `cli` (`python -m core news ...`).
"""
