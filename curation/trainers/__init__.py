"""Trainer backends (openai, azure-openai, hf-local, autotrain) and the job store.

``base`` holds the interface and the job record, ``store`` the SQLite job store, ``jobs`` the
operations the CLI and the UI share (start, refresh, follow, cancel, resume, logs, deploy).
"""
