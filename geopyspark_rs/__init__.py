"""geopyspark_rs: the GeoPySpark raster API on stock PySpark, with a Rust core.

``import geopyspark_rs as gps`` gives the names of ``import geopyspark as gps``.
"""

from . import errors  # noqa: F401  (gps.errors: the exception classes)
from .geotrellis import *  # noqa: F401,F403
from .geotrellis import __all__ as _geotrellis_all
from .geotrellis import crs_to_proj4  # noqa: F401  (not in __all__, as in GeoPySpark's geotrellis namespace)
from .session import geopyspark_conf, get_spark_context  # noqa: F401

__version__ = "0.1.0"
__all__ = ["geopyspark_conf"] + list(_geotrellis_all)
