"""The curation pipeline: small stages, run and counted by the runner."""
