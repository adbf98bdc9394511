"""Typed evidence models; `compliance.assessment` composes them into one Assessment."""
