"""The engine version, stamped into every result so a re-score can tell engines apart."""

__version__ = "0.1.0"
