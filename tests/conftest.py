import os

os.environ.setdefault("BOOK_SCALE", "small")
os.environ.setdefault("BOOK_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
