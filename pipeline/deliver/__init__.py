"""Delivering recipient files over SFTP."""
