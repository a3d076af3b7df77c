"""Synthetic inboxes in the exact contract formats, deterministic for a seed, from a few hundred persons
(`sample`, committed under sample_data/) to all of Latvia (`national`, for the benchmark)."""
