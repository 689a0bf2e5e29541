"""The library behind *Compression and Generalization*: one module per idea.

Chapters import what they need, e.g. ``from lib import bounds, runtime``.
"""

__version__ = "0.1.0"
