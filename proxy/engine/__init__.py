"""Turning one matched legacy request into upstream calls and a legacy answer."""
