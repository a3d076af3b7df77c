"""Recipient files, manifest, atomic publication and the run report."""
