"""geopyspark_rs quickstart: an end-to-end raster pipeline on the embedded local Spark.

Run with `dev/quickstart` (sets up the venv and the extension first). No SparkSession is created here:
the first layer operation starts an embedded local[*] Spark by itself. Options: `--png PATH` writes the
rendered elevation there too; `--serve` keeps the web map running until Ctrl-C.
"""

import argparse
import os
import tempfile
import time
import urllib.request

import numpy as np

import geopyspark_rs as gps


def synthetic_dem(rows=1024, cols=1536):
    """A smooth elevation surface with a NoData hole, in metres."""
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    dem = 800 + 400 * np.sin(x / 180.0) * np.cos(y / 240.0) + 0.05 * x
    dem[400:440, 600:700] = np.nan
    return dem.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", help="also write the rendered elevation PNG here")
    parser.add_argument("--serve", action="store_true", help="serve the web map until interrupted")
    args = parser.parse_args()
    t0 = time.time()
    dem = synthetic_dem()
    rows, cols = dem.shape
    cell = 30.0  # metres
    # Four untiled rasters (as if read from four GeoTIFFs) side by side in Web Mercator.
    rasters = []
    for i in range(4):
        part = dem[:, i * cols // 4:(i + 1) * cols // 4]
        xmin = i * (cols // 4) * cell
        extent = gps.Extent(xmin, 0.0, xmin + part.shape[1] * cell, rows * cell)
        rasters.append((gps.ProjectedExtent(extent, epsg=3857), gps.Tile.from_numpy_array(part[np.newaxis], np.nan)))
    in_memory = gps.RasterLayer.from_numpy_tiles(gps.LayerType.SPATIAL, rasters)

    # Round trip through GeoTIFF: one deflate GeoTIFF per raster, written by the Rust writer on the
    # executors, then read back by windows with gps.geotiff.get (the driver reads only the headers).
    folder = tempfile.mkdtemp(prefix="gps-quickstart-")
    tiffs = in_memory.to_geotiff_rdd(compression=gps.Compression.DEFLATE_COMPRESSION).collect()
    for i, (_, tiff) in enumerate(sorted(tiffs, key=lambda kv: kv[0].extent.xmin)):
        with open(os.path.join(folder, f"dem_{i}.tif"), "wb") as f:
            f.write(tiff)
    raster = gps.geotiff.get(gps.LayerType.SPATIAL, folder, max_tile_size=256)
    print(raster, "read from", len(tiffs), "GeoTIFFs in", folder, "as", raster.count(), "windows")

    metadata = raster.collect_metadata(gps.LocalLayout(256))
    print("layout:", metadata.tile_layout, "bounds:", metadata.bounds.minKey, "..", metadata.bounds.maxKey)
    print("cell type:", metadata.cell_type, "crs:", metadata.crs)

    layer = raster.tile_to_layout(gps.LocalLayout(256)).cache()
    print(layer, "with", layer.count(), "tiles")

    lo, hi = layer.get_min_max()
    print(f"elevation range: {lo:.1f} .. {hi:.1f} m")

    # A fused chain of local operations: one pass over the tiles in Rust.
    relief = ((layer - lo) / (hi - lo) * 100).convert_data_type(gps.CellType.INT16)
    classes = relief.reclassify({20: 1, 40: 2, 60: 3, 80: 4, 100: 5}, int)
    hist = classes.get_class_histogram()
    print("relief classes (class: cells):", dict(hist.bin_counts()))

    stats = layer.get_histogram()
    print(f"mean {stats.mean():.1f} m, median {stats.median():.1f} m, quartiles {stats.quantile_breaks(4)}")

    high = layer > 1000
    print("cells above 1000 m:", int(high.stitch().cells.sum()))

    stitched = (layer * 3.28084).stitch()
    print("stitched elevation in feet:", stitched.cells.shape, stitched.cell_type,
          f"max {np.nanmax(stitched.cells):.1f} ft")
    assert np.allclose(stitched.cells[0, :rows, :cols], dem * np.float32(3.28084), equal_nan=True, rtol=1e-6)
    cog = os.path.join(folder, "dem_cog.tif")
    layer.save_stitched(cog, cog=True)
    print("stitched Cloud Optimized GeoTIFF:", cog, os.path.getsize(cog), "bytes")

    # A GeoTrellis catalog: write the layer, keep its histogram beside it, read back a region and one tile.
    catalog = os.path.join(folder, "catalog")
    # The constructor keeps zoom 0 (GeoPySpark's from_* methods take a zoom of 0 for none).
    dem = gps.TiledRasterLayer(layer.layer_type, layer.dataframe, layer.layer_metadata, zoom_level=0)
    gps.write(catalog, "dem", dem, index_strategy=gps.IndexingMethod.HILBERT)
    gps.AttributeStore(catalog).layer("dem", 0).write("histogram", stats.to_dict())
    e = metadata.extent
    region = gps.Extent(e.xmin, e.ymin, (e.xmin + e.xmax) / 2, (e.ymin + e.ymax) / 2)
    part = gps.query(catalog, "dem", 0, query_geom=region)
    tile = gps.read_value(catalog, "dem", 0, 0, 0)
    print("catalog:", catalog, "- south-west quarter has", part.count(), "tiles; tile (0, 0):", tile.cells.shape)

    # Reproject to lat/long on GeoTrellis' zoomed layout (the zoom chosen from the cell size), build the
    # pyramid down to zoom 0 and write every level beside the native layer.
    latlng = raster.tile_to_layout(gps.GlobalLayout(), target_crs=4326, resample_method=gps.ResampleMethod.BILINEAR)
    pyramid = latlng.pyramid(gps.ResampleMethod.AVERAGE)
    print(f"EPSG:4326 at zoom {latlng.zoom_level}: {latlng.count()} tiles; pyramid levels {sorted(pyramid.levels)}")
    pyramid.write(catalog, "dem_4326")
    centre = gps.KeyTransform(latlng.layer_metadata.layout_definition).key_to_extent(
        latlng.layer_metadata.bounds.minKey).to_polygon.centroid
    [(point, values)] = latlng.get_point_values([centre], gps.ResampleMethod.BILINEAR)
    print(f"elevation at ({point.x:.5f}, {point.y:.5f}): {values}")

    # Render: a colour map from the histogram's quantiles (GeoTrellis' Viridis ramp), the stitched
    # elevation as a PNG encoded in Rust, and the pyramid served as map tiles with a web map.
    cmap = gps.ColorMap.build(stats, gps.ColorRamp.VIRIDIS)
    picture = os.path.join(folder, "elevation.png")
    png = layer.stitch().to_png(cmap)
    for path in filter(None, [picture, args.png]):
        with open(path, "wb") as f:
            f.write(png)
    print("rendered elevation:", picture, len(png), "bytes")
    tms = gps.TMS.build((catalog, "dem_4326"), cmap).bind()
    z = latlng.zoom_level
    key = latlng.layer_metadata.bounds.minKey
    with urllib.request.urlopen(tms.url_pattern.format(z=z, x=key.col, y=key.row)) as r:
        print(f"web map: {tms.url} (tile {z}/{key.col}/{key.row}: HTTP {r.status}, {len(r.read())} bytes)")
    if args.serve:
        print("serving until Ctrl-C")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    tms.unbind()
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
