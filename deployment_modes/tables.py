"""Tables as the book shows them: each with its own caption, numbers rounded, a missing value in words.

Defined in the Batch learning chapter (``book/batch.ipynb``); every chapter uses it.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["show"]


def show(
    frame,
    caption: str,
    *,
    digits: int = 1,
    whole=(),
    missing: str = "never",
    index: bool = True,
):
    """A DataFrame as a table for the page: its caption, its numbers rounded, missing values in words.

    Floats are shown with ``digits`` decimals, numbers with thousands separators, and a missing
    value (an event count that never came, say) as ``missing``. The frame is not changed.

    Parameters
    ----------
    frame
        A :class:`pandas.DataFrame` (a Series is shown as one column).
    caption
        The table's caption ("Table: ..."), shown above it.
    digits
        Decimals of the floats.
    whole
        Columns shown as whole numbers (event counts, rows).
    missing
        What a missing value reads as.
    index
        Show the row labels.

    Returns
    -------
    pandas.io.formats.style.Styler
        The table, ready to display.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"accuracy (%)": [91.234, 50.0], "events to recover": [1234.0, None]})
    >>> html = show(runs, "Table: two runs.", whole=["events to recover"]).to_html()
    >>> all(s in html for s in ("Table: two runs.", "91.2", "1,234", "never"))
    True
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame or Series, got {type(frame).__name__}")
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError("caption must be a non-empty string: every table has its own caption")
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 0:
        raise ValueError(f"digits must be a whole number >= 0, got {digits!r}")
    unknown = [c for c in whole if c not in frame.columns]
    if unknown:
        raise ValueError(f"whole names columns the frame does not have: {unknown}")
    style = frame.style.format(precision=digits, thousands=",", na_rep=missing)
    if whole:
        style = style.format("{:,.0f}", na_rep=missing, subset=list(whole))
    if not index:
        style = style.hide(axis="index")
    return style.set_caption(caption)
