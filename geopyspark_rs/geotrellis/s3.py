"""Amazon S3 credentials (GeoPySpark's ``geopyspark.geotrellis.s3``), and the object store options the Rust
storage layer reads S3, GCS, Azure and HTTP objects with.

GeoPySpark passed credentials to Hadoop through the Spark conf keys ``spark.hadoop.fs.<scheme>.access.key`` and
``.secret.key``. We read the same keys (and the s3a endpoint keys) and turn them into object_store options;
anything they leave unset comes from the environment (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ...).
"""

from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager

from geopyspark_rs.session import get_spark_context

__all__ = ["Credentials"]

S3A_FS_CONSTANT = "org.apache.hadoop.fs.s3a.S3AFileSystem"
S3A_IMPL_PATH = "spark.hadoop.fs.s3a.impl"

_S3_SCHEMES = ("s3", "s3a", "s3n")
_ACCESS_KEY = "spark.hadoop.fs.{}.access.key"
_SECRET_KEY = "spark.hadoop.fs.{}.secret.key"
S3_ACCESS_KEY_PATH, S3_SECRET_KEY_PATH = _ACCESS_KEY.format("s3"), _SECRET_KEY.format("s3")
S3A_ACCESS_KEY_PATH, S3A_SECRET_KEY_PATH = _ACCESS_KEY.format("s3a"), _SECRET_KEY.format("s3a")
S3N_ACCESS_KEY_PATH, S3N_SECRET_KEY_PATH = _ACCESS_KEY.format("s3n"), _SECRET_KEY.format("s3n")

Credentials = namedtuple("Credentials", ["access_key", "secret_key"])
Credentials.__doc__ = """Credentials for Amazon S3 buckets.

    Attributes:
        access_key (str): The access key for the S3 bucket.
        secret_key (str): The secret key for the S3 bucket.
    """


def is_s3_uri(uri) -> bool:
    """Whether ``uri`` points to Amazon S3 (``s3://``, ``s3a://`` or ``s3n://``)."""
    return isinstance(uri, str) and any(uri.startswith(scheme + "://") for scheme in _S3_SCHEMES)


def _active_session():
    """The active SparkSession (classic or Connect) or None; never starts one."""
    try:
        from ..session import existing_session

        return existing_session()
    except Exception:  # no Spark, or a Connect client without a server
        return None


def _context_conf():
    """The SparkContext's conf (classic Spark) or None (Spark Connect, no Spark)."""
    try:
        return get_spark_context()._conf
    except Exception:
        return None


class _SessionConf:
    """``session.conf`` with the get/set/unset shape ``_swap`` needs."""

    def __init__(self, conf):
        self._conf = conf

    def get(self, key):
        return self._conf.get(key, None)

    def set(self, key, value):
        if value is None:
            self._conf.unset(key)
        else:
            self._conf.set(key, value)


def _set(conf, key, value):
    if value is None:
        # A JVM SparkConf refuses null; remove the key instead.
        jconf = getattr(conf, "_jconf", None)
        if jconf is not None:
            jconf.remove(key)
            return
        if conf.__class__.__name__ == "SparkConf":
            conf._conf.pop(key, None)  # a SparkConf not yet bound to a JVM keeps a dict
            return
    conf.set(key, value)


@contextmanager
def set_s3_credentials(credentials, uri_type):
    """Temporarily sets the S3 credentials of the Spark configuration for the duration of the context.

    Sets ``spark.hadoop.fs.<uri_type>.access.key`` and ``.secret.key`` (and, for s3a,
    ``spark.hadoop.fs.s3a.impl``) on the SparkContext's conf and on the active session's runtime conf (the
    one that exists on Spark Connect), and restores the previous values afterwards. Does nothing when
    ``credentials`` is None.

    Args:
        credentials (Credentials): the access and secret keys.
        uri_type (str): ``'s3'``, ``'s3a'`` or ``'s3n'``.

    Raises:
        RuntimeError: if ``uri_type`` is not an S3 scheme.
    """
    if not credentials:
        yield
        return
    if uri_type not in _S3_SCHEMES:
        raise RuntimeError(f"Cannot set S3 credentials for unrecognized URI type {uri_type}")
    values = {
        _ACCESS_KEY.format(uri_type): credentials.access_key,
        _SECRET_KEY.format(uri_type): credentials.secret_key,
    }
    if uri_type == "s3a":
        values[S3A_IMPL_PATH] = S3A_FS_CONSTANT
    confs = []
    context_conf = _context_conf()
    if context_conf is not None:
        confs.append(context_conf)
    session = _active_session()
    if session is not None:
        confs.append(_SessionConf(session.conf))
    saved = []
    try:
        for conf in confs:
            for key, value in values.items():
                saved.append((conf, key, conf.get(key)))
                _set(conf, key, value)
        yield
    finally:
        for conf, key, old in reversed(saved):
            try:
                _set(conf, key, old)
            except Exception:  # restoring must not hide the body's exception
                pass


def _conf_reader(session):
    """A ``get(key) -> str | None`` over the session's runtime conf, then the SparkContext's conf."""
    confs = []
    if session is not None:
        confs.append(lambda key: session.conf.get(key, None))
    context_conf = _context_conf()
    if context_conf is not None:
        confs.append(lambda key: context_conf.get(key))

    def get(key):
        for conf in confs:
            try:
                value = conf(key)
            except Exception:
                continue
            if value:  # GeoPySpark's restore leaves "" behind on some confs
                return value
        return None

    return get


def _endpoint_options(get) -> dict[str, str]:
    options = {}
    endpoint = get("spark.hadoop.fs.s3a.endpoint")
    if endpoint:
        if "://" not in endpoint:
            # Hadoop's bare host form; its scheme comes from connection.ssl.enabled (default true).
            ssl = (get("spark.hadoop.fs.s3a.connection.ssl.enabled") or "true").lower() != "false"
            endpoint = ("https://" if ssl else "http://") + endpoint
        options["aws_endpoint"] = endpoint
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
    path_style = get("spark.hadoop.fs.s3a.path.style.access")
    if path_style:
        options["aws_virtual_hosted_style_request"] = "false" if path_style.lower() == "true" else "true"
    region = get("spark.hadoop.fs.s3a.endpoint.region")
    if region:
        options["aws_region"] = region
    # The retry policy and timeouts of the object store client (docs/reliability.md, "Flaky object stores").
    for key in STORE_CONF_KEYS:
        value = get(STORE_CONF_PREFIX + key)
        if value:
            options[key] = value
    return options


# ``spark.geopyspark_rs.store.<key>`` in the Spark conf sets these store options for S3 reads and writes.
STORE_CONF_PREFIX = "spark.geopyspark_rs.store."
STORE_CONF_KEYS = ("retry_max_retries", "retry_timeout", "retry_init_backoff", "retry_max_backoff", "timeout",
                   "connect_timeout")


def store_options(uri, credentials=None, session=None) -> dict[str, str]:
    """The object_store options for reading or writing ``uri``.

    In order of precedence: explicit ``credentials``; the Spark conf of ``session`` (or the active session)
    — ``spark.hadoop.fs.<scheme>.access.key``/``.secret.key``/``.session.token``, and
    ``spark.hadoop.fs.s3a.endpoint``, ``.endpoint.region``, ``.path.style.access``,
    ``.connection.ssl.enabled``, and ``spark.geopyspark_rs.store.<option>`` for the client's retry policy and
    timeouts (``retry_max_retries``, ``retry_timeout``, ``retry_init_backoff``, ``retry_max_backoff``,
    ``timeout``, ``connect_timeout``); then, for anything unset, the environment (read by the Rust side).
    Local paths and ``file://`` URIs get ``{}``.

    Args:
        uri (str): the path or URI.
        credentials (Credentials, optional): S3 access and secret key.
        session (SparkSession, optional): the session whose conf to read; default the active one, if any.

    Raises:
        RuntimeError: if ``credentials`` are given for a URI that is not S3.
    """
    if not isinstance(uri, str) or "://" not in uri or uri.startswith("file:"):
        if credentials:
            raise RuntimeError(f"S3 credentials were given for {uri!r}, which is not an S3 URI")
        return {}
    scheme = uri.split("://", 1)[0].lower()
    if scheme not in _S3_SCHEMES:
        if credentials:
            raise RuntimeError(f"S3 credentials were given for {uri!r}, which is not an S3 URI")
        return {}
    get = _conf_reader(session if session is not None else _active_session())
    options = _endpoint_options(get)
    # Each scheme's own keys first; s3a's keys serve s3 and s3n too, as on EMR and in most Spark setups.
    for prefix in dict.fromkeys((scheme, "s3a")):
        access, secret = get(_ACCESS_KEY.format(prefix)), get(_SECRET_KEY.format(prefix))
        if access and secret:
            options["aws_access_key_id"] = access
            options["aws_secret_access_key"] = secret
            token = get(f"spark.hadoop.fs.{prefix}.session.token")
            if token:
                options["aws_session_token"] = token
            break
    if credentials:
        options["aws_access_key_id"] = credentials.access_key
        options["aws_secret_access_key"] = credentials.secret_key
        options.pop("aws_session_token", None)
    return options
