"""curation: raw chat logs in; clean, deduplicated, provider-ready fine-tuning data out."""

__version__ = "0.1.0"
