"""The workflow definitions: one file per flow, each calling one `pipeline.flows` module."""
