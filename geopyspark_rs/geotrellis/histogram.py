"""The ``Histogram`` class: GeoTrellis histograms computed by the Rust engine."""

import json

import numpy as np

from geopyspark_rs._native import Histogram as _NativeHistogram

__all__ = ['Histogram']


class Histogram(object):
    """A GeoTrellis histogram of the values of a layer.

    Either a ``StreamingHistogram`` (approximate, at most 80 buckets by default, for any cell type) or a
    ``FastMapHistogram`` (exact counts of integer values). Numbers are ``float`` for the first and ``int``
    for the second.

    Args:
        native (geopyspark_rs._native.Histogram): The engine's histogram.

    Attributes:
        native (geopyspark_rs._native.Histogram): The engine's histogram.
    """

    def __init__(self, native):
        if not isinstance(native, _NativeHistogram):
            raise TypeError("Histogram wraps a geopyspark_rs._native.Histogram, got {}".format(
                type(native).__name__))
        self.native = native

    @classmethod
    def _from_values(cls, values, int_histogram, max_bucket_count=80):
        """Builds a histogram of cell values.

        Args:
            values (numpy.ndarray): Cell values; converted to float64, NaN is NoData.
            int_histogram (bool): Exact integer histogram (values truncated toward zero) if True,
                streaming histogram otherwise.
            max_bucket_count (int, optional): Buckets of a streaming histogram.

        Returns:
            :class:`~geopyspark_rs.geotrellis.histogram.Histogram`
        """
        array = np.ascontiguousarray(values, dtype=np.float64).ravel()
        return cls(_NativeHistogram.from_values(array, bool(int_histogram), max_bucket_count))

    @classmethod
    def from_dict(cls, value):
        """Decodes a histogram from its GeoTrellis JSON form.

        Args:
            value (dict or list): A dict (``StreamingHistogram``) or a list of ``[value, count]`` pairs
                (``FastMapHistogram``), as returned by :meth:`to_dict`.

        Returns:
            :class:`~geopyspark_rs.geotrellis.histogram.Histogram`

        Raises:
            ValueError: If ``value`` is not a GeoTrellis histogram.
        """
        if not isinstance(value, (dict, list, tuple)):
            raise ValueError("a histogram dict or list of [value, count] pairs is expected, got {}".format(
                type(value).__name__))
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError("histogram is not valid JSON: {}".format(e)) from None
        return cls(_NativeHistogram.from_json(text))

    def to_dict(self):
        """Encodes the histogram in its GeoTrellis JSON form.

        Returns:
            dict or list: ``{"buckets": [[label, count], ...], "maxBucketCount": n, "minimum": x,
            "maximum": y}`` for a streaming histogram, ``[[value, count], ...]`` for an integer one.
        """
        return json.loads(self.native.to_json())

    def min(self):
        """The smallest value seen.

        Returns:
            int or float

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.min()

    def max(self):
        """The largest value seen.

        Returns:
            int or float

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.max()

    def min_max(self):
        """The smallest and largest values seen.

        Returns:
            (int, int) or (float, float)

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.min_max()

    def mean(self):
        """The mean of the values.

        Returns:
            float

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.mean()

    def mode(self):
        """The most frequent value (label of the fullest bucket for a streaming histogram).

        Returns:
            int or float

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.mode()

    def median(self):
        """The median as GeoTrellis computes it.

        For a streaming histogram it is the 0.5 quantile interpolated on the cumulative distribution of
        the buckets; for an integer histogram the first value whose cumulative count exceeds half of the
        total. (GeoPySpark returned the mean here.)

        Returns:
            int or float

        Raises:
            ValueError: If the histogram is empty.
        """
        return self.native.median()

    def values(self):
        """The distinct values (integer histogram) or bucket labels (streaming histogram), sorted.

        Returns:
            [int] or [float]
        """
        return self.native.values()

    def item_count(self, item):
        """The number of occurrences of a value (approximate for a streaming histogram).

        Args:
            item (int or float): The value.

        Returns:
            int
        """
        return self.native.item_count(float(item))

    def cdf(self):
        """The cumulative distribution: one ``(value, fraction of values <= value)`` per bucket.

        Returns:
            [(float, float)]
        """
        return self.native.cdf()

    def bucket_count(self):
        """The number of buckets (distinct values for an integer histogram).

        Returns:
            int
        """
        return self.native.bucket_count()

    def bin_counts(self):
        """The ``(value, count)`` of every bucket, sorted by value.

        Returns:
            [(int, int)] or [(float, int)]
        """
        return self.native.bin_counts()

    def quantile_breaks(self, num_breaks):
        """Quantile breaks as GeoTrellis computes them.

        Args:
            num_breaks (int): The number of breaks wanted.

        Returns:
            [int] or [float]: At most ``num_breaks`` breaks, the last one the maximum.

        Raises:
            ValueError: If ``num_breaks`` is not a positive integer.
        """
        if isinstance(num_breaks, bool) or not isinstance(num_breaks, (int, np.integer)):
            raise ValueError("num_breaks must be a positive integer, got {!r}".format(num_breaks))
        return self.native.quantile_breaks(int(num_breaks))

    def merge(self, other_histogram):
        """Merges this histogram with another of the same kind.

        Args:
            other_histogram (Histogram): The other histogram.

        Returns:
            Histogram: both histograms' counts.

        Raises:
            ValueError: If one histogram is an integer histogram and the other is not.
        """
        if not isinstance(other_histogram, Histogram):
            raise TypeError("merge expects a Histogram, got {}".format(type(other_histogram).__name__))
        return Histogram(self.native.merge(other_histogram.native))

    def __repr__(self):
        return repr(self.native)
