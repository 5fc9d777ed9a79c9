"""The composition root: a location's PMS settings (organization file, optionally overridden by a
step's `with: connection`) become one connector. Secrets are resolved here, at call time.

Organization `pms.connection` fields, per product:
- opendental: `base_url` (the API root), `secret` (customer key ref), `developer_secret` (developer key ref)
- dentrix / eaglesoft: `dsn` (the ODBC data source name, or a SQLAlchemy URL such as a stand-in's
  `sqlite:///FILE`), `secret` (the database password ref)
- opendental pacing: `throttle` (organization): `read_all` (the default: one request per 5 s),
  `extended` (the developer key holds another API permission: one per 1 s) or `local` (the Local
  API / API Service at the office: not paced), as Open Dental documents its throttling.
`allow_insecure_local: true` (only in an override) permits plain HTTP to a loopback simulator;
`request_interval_s` (only in an override) sets the pacing directly, e.g. scaled down for a simulator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from golive.tasks.pms import dentrix, eaglesoft
from golive.tasks.pms.dentrix import DentrixConnector
from golive.tasks.pms.eaglesoft import EaglesoftConnector
from golive.tasks.pms.opendental import OpenDentalConnector
from golive.tasks.pms.pacing import Throttle, shared_pacer
from golive.tasks.pms.protocol import PmsConfigError, PmsConnector
from golive.tasks.pms.retry import RetryPolicy
from golive.tasks.pms.secrets import check_reference, resolve

PRODUCTS = ("opendental", "dentrix", "eaglesoft")


@dataclass(frozen=True)
class PmsSettings:
    product: str
    base_url: str | None = None
    secret: str | None = None
    developer_secret: str | None = None
    dsn: str | None = None
    allow_insecure_local: bool = False
    reported_version: str | None = None  # what the organization file says (informational)
    location: str = ""
    throttle: Throttle = Throttle.READ_ALL
    request_interval_s: float | None = None  # an override's explicit pacing (simulators, tests)

    @property
    def interval_s(self) -> float:
        """Seconds between request starts for this location (0 for the ODBC routes: no API to pace)."""
        if self.product != "opendental":
            return 0.0
        return self.request_interval_s if self.request_interval_s is not None else self.throttle.interval_s


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def settings_for(location: Any, override: Mapping[str, Any] | None = None) -> PmsSettings:
    pms = _get(location, "pms")
    product = _get(pms, "product")
    product = str(getattr(product, "value", product) or "").lower().replace(" ", "") or None
    conn = _get(pms, "connection")
    o = dict(override or {})
    product = str(o.get("product") or product or "")
    if product not in PRODUCTS:
        raise PmsConfigError(f"location has no supported PMS (got {product or 'none'}; expected one of "
                             f"{', '.join(PRODUCTS)})")
    pick = lambda k: o.get(k) if o.get(k) is not None else _get(conn, k)  # noqa: E731
    throttle = pick("throttle") or Throttle.READ_ALL.value
    try:
        interval = o.get("request_interval_s")
        s = PmsSettings(product=product, base_url=pick("base_url"), secret=pick("secret"),
                        developer_secret=pick("developer_secret"), dsn=pick("dsn"),
                        allow_insecure_local=bool(o.get("allow_insecure_local", False)),
                        reported_version=_get(pms, "version"), location=str(_get(location, "id") or ""),
                        throttle=Throttle(getattr(throttle, "value", throttle)),
                        request_interval_s=None if interval is None else max(0.0, float(interval)))
    except ValueError as exc:
        raise PmsConfigError(f"connection pacing: {exc} (throttle is one of "
                             f"{', '.join(t.value for t in Throttle)}; request_interval_s a number)") from None
    for name in ("secret", "developer_secret"):
        if getattr(s, name) is not None:
            check_reference(getattr(s, name), name)
    return s


def connect(
    s: PmsSettings, *, retry: RetryPolicy | None = None, env: Callable[[str], str | None] = os.environ.get
) -> PmsConnector:
    if s.product == "opendental":
        if not (s.base_url and s.secret and s.developer_secret):
            raise PmsConfigError("an Open Dental connection needs base_url, secret (customer key) and "
                                 "developer_secret (developer key)")
        return OpenDentalConnector(
            s.base_url, resolve(s.developer_secret, "developer_secret", env=env).reveal(),
            resolve(s.secret, "secret", env=env).reveal(), allow_insecure_local=s.allow_insecure_local,
            retry=retry or RetryPolicy(),
            # Open Dental throttles per customer key: every connector of this location shares one pacer.
            pacer=shared_pacer(f"{s.location}|{s.base_url}|{s.secret}", s.interval_s),
        )
    if not s.dsn:
        raise PmsConfigError(f"a {s.product} connection needs dsn")
    if "://" in s.dsn:
        url = s.dsn  # an explicit SQLAlchemy URL (the SQLite stand-ins, or a site's own)
    else:
        pwd = resolve(s.secret, "secret", env=env).reveal() if s.secret else ""
        odbc = quote_plus(f"DSN={s.dsn};PWD={pwd}")
        dialect = "mssql+pyodbc" if s.product == "dentrix" else "sqlalchemy_sqlany+pyodbc"
        url = f"{dialect}:///?odbc_connect={odbc}"
    try:
        if s.product == "dentrix":
            return DentrixConnector(dentrix.make_engine(url), dentrix.probe_version)
        return EaglesoftConnector(eaglesoft.make_engine(url), eaglesoft.probe_version)
    except Exception as exc:  # NoSuchModuleError / ImportError for a missing ODBC driver or dialect
        raise PmsConfigError(f"cannot open the {s.product} route: {type(exc).__name__} (is the ODBC driver "
                             "and its SQLAlchemy dialect installed?)") from None
