"""Pixel windows of an image, and the error for windows and bands outside it."""

from __future__ import annotations

from dataclasses import dataclass

from geopyspark_rs.errors import InvalidArgumentError

__all__ = ["Window", "WindowError"]


class WindowError(InvalidArgumentError, IndexError):
    """A window or band that does not lie inside the image read, or a window of negative offset or of no
    pixels. Both a ``ValueError`` and an ``IndexError``."""


@dataclass(frozen=True, slots=True)
class Window:
    """A rectangle of whole pixels: ``width`` columns from column ``col_off`` and ``height`` rows from
    row ``row_off`` (row 0 is the top of the image), as rasterio's ``Window`` with integer values.

    Raises:
        WindowError: a negative offset, a width or height below 1, or a value that is not an integer.
    """

    col_off: int
    row_off: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("col_off", "row_off", "width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                # numpy integers are accepted and stored as ints.
                try:
                    as_int = int(value.__index__())
                except (AttributeError, TypeError):
                    raise WindowError(f"Window {name} must be an integer, got {value!r}") from None
                object.__setattr__(self, name, as_int)
        if self.col_off < 0 or self.row_off < 0:
            raise WindowError(
                f"Window offsets must be >= 0, got col_off={self.col_off}, row_off={self.row_off}"
            )
        if self.width < 1 or self.height < 1:
            raise WindowError(f"Window width and height must be >= 1, got {self.width}x{self.height}")

    def intersection(self, other: Window) -> Window:
        """The pixels both windows hold.

        Raises:
            WindowError: when they do not overlap.
        """
        col0, row0 = max(self.col_off, other.col_off), max(self.row_off, other.row_off)
        col1 = min(self.col_off + self.width, other.col_off + other.width)
        row1 = min(self.row_off + self.height, other.row_off + other.height)
        if col1 <= col0 or row1 <= row0:
            raise WindowError(f"{self} and {other} do not overlap")
        return Window(col0, row0, col1 - col0, row1 - row0)
