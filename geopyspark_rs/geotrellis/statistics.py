"""Layer statistics: min/max and histograms. Executors build partial results per partition in Rust, in
the layer's own pass (its pending steps applied there), and send back only those; the driver merges the
few partials (no per-cell work in Python)."""

from __future__ import annotations

import math

import pyarrow as pa

from .. import _native


def _merge_min_max(pairs):
    pairs = [p for p in pairs if p is not None]
    if not pairs:
        return (math.nan, math.nan)
    return (float(min(p[0] for p in pairs)), float(max(p[1] for p in pairs)))


class Statistics:
    def get_min_max(self):
        """``(min, max)`` of all data cells over all bands, as floats (NaN when there is no data)."""
        from . import plan as _plan

        def partials(batches, min_max):
            lo, hi = _merge_min_max([min_max(batch) for batch in batches])
            if not math.isnan(lo):
                yield pa.RecordBatch.from_pydict({"lo": [lo], "hi": [hi]})

        schema = "lo double, hi double"
        fused = _plan.rust_plan(self._steps)
        if fused is None:
            df = self._map_batches(lambda batches: partials(batches, _native.min_max), schema)
        else:  # the steps run inside the reduction, tile by tile, with no stepped batch built
            df = _plan.execute(self._df, self._head, (), schema,
                               lambda batches: partials(batches, lambda b: _native.min_max(b, fused)))
        return _merge_min_max([(r.lo, r.hi) for r in df.collect()])

    def _band_histograms(self, int_histogram: bool):
        """One merged native histogram per band."""

        def run(batches):
            acc = []
            for batch in batches:
                for band, h in enumerate(_native.batch_histograms(batch, int_histogram)):
                    if band < len(acc):
                        acc[band] = acc[band].merge(h)
                    else:
                        acc.append(h)
            if acc:
                yield pa.RecordBatch.from_pydict({
                    "band": pa.array(range(len(acc)), pa.int32()), "state": [h.to_json() for h in acc]})

        rows = self._map_batches(run, "band int, state string").collect()
        merged = {}
        for r in rows:
            h = _native.Histogram.from_json(r.state)
            merged[r.band] = merged[r.band].merge(h) if r.band in merged else h
        return [merged[b] for b in sorted(merged)]

    def _histograms(self, int_histogram: bool):
        from .histogram import Histogram

        hists = [Histogram(h) for h in self._band_histograms(int_histogram)]
        if not hists:
            raise ValueError("the layer has no tiles to build a histogram from")
        return hists[0] if len(hists) == 1 else hists

    def get_histogram(self):
        """A streaming histogram (GeoTrellis StreamingHistogram, 80 buckets) per band: one Histogram for a
        single-band layer, else a list."""
        return self._histograms(False)

    def get_class_histogram(self):
        """An exact integer histogram per band: one Histogram for a single-band layer, else a list."""
        return self._histograms(True)

    def get_quantile_breaks(self, num_breaks):
        """Quantile breaks of band 0's streaming histogram."""
        from .histogram import Histogram

        return Histogram(self._band_histograms(False)[0]).quantile_breaks(num_breaks)

    def get_quantile_breaks_exact_int(self, num_breaks):
        """Quantile breaks of band 0's exact integer histogram, as ints."""
        from .histogram import Histogram

        return [int(b) for b in Histogram(self._band_histograms(True)[0]).quantile_breaks(num_breaks)]
