"""The built-in checks; importing this package registers them."""

from policies._builtin import _drift, _fairness, _governance, _privacy

__all__ = ["_drift", "_fairness", "_governance", "_privacy"]
