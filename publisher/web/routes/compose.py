"""The compose pages (placeholder: filled in by the next slice of issue 8)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
