"""GeoPySpark's ``geopyspark.geotools`` path: vector input (``geotools.shapefile``)."""
