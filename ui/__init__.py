"""The Gradio review UI (`curate ui RUN_DIR`): ``ui.app.build_app``/``ui.app.launch``; handlers: ``ui.handlers``."""
