"""Tests for comfy-tui."""
