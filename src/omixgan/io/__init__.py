"""Readers: the course folder format and generic tables, validated with clear errors."""

from ._course import read_course
from ._table import read_labels, read_table

__all__ = ["read_course", "read_table", "read_labels"]
