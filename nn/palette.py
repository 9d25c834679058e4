"""One colour per class, for every PNG and page: class k (or label -1 → 0, +1 → 1) is CLASSES[k]."""

# Binary tasks: class 0 / label -1 is orange, class 1 / label +1 is blue, as on the live page.
CLASSES = ["#ea580c", "#2563eb", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
           "#db2777", "#4b5563", "#65a30d"]


def class_colour(label) -> str:
    """The colour of a class index, or of a -1/+1 label (-1 is class 0)."""
    k = 0 if label == -1 else int(label)
    return CLASSES[k % len(CLASSES)]
