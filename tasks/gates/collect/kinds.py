"""The `metrics.collect` step kind: collect days of metrics from the configured sources.

`with:` — `sources` (one entry per source: opendental, zendesk, xapi or lms_csv, probe or statuspage,
survey), `day` (default
yesterday, UTC) or `start`/`end` (a baseline period: the same collectors, the same definitions),
`locations` (default: the organization's, or only the live ones with `live_only`). Credentials are
secret references (`env:NAME`, `prefect-secret:NAME`), resolved here at run time. A source that
fails does not fail the step: its keys are recorded missing with the reason, and the gate reads
them as inconclusive. Set `fail_on_missing: true` to fail the step as well.

Uptime: when the organization names its vendor's status page (`vendor.status_page`), `probe`
takes uptime from that page instead (`statuspage`). Closed office days (the organization's
`calendar:`, or `with: calendar:`) are recorded closed, not missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from golive.tasks.context import StepContext
from golive.tasks.foundation.errors import StepFailed, UserInputError
from golive.tasks.foundation.secrets import resolve
from golive.tasks.gates import repository
from golive.tasks.gates.collect.base import Collector, check_collectors, collect_day, days
from golive.tasks.gates.collect.calendar import calendars, office_calendar
from golive.tasks.gates.collect.http import PacedClient
from golive.tasks.gates.collect.lms_csv import LmsCsvCollector
from golive.tasks.gates.collect.local import ProbeCollector, SurveyCollector
from golive.tasks.gates.collect.opendental import OpenDentalCollector
from golive.tasks.gates.collect.statuspage import StatuspageCollector
from golive.tasks.gates.collect.xapi import LOCATION_EXT, VERSION, XapiCollector
from golive.tasks.gates.collect.zendesk import ZendeskCollector
from golive.tasks.kind import StepKind
from golive.tasks.pms.pacing import Pacer

SOURCES = ("opendental", "zendesk", "xapi", "lms_csv", "probe", "statuspage", "survey")
ZENDESK_INTERVAL_S = 0.3  # Zendesk "Rate limits": Support Team plan, 200 requests a minute
XAPI_INTERVAL_S = 0.1
STATUSPAGE_INTERVAL_S = 1.0  # a public page: two requests a day, gently


class MissingMetrics(StepFailed):
    """Collection finished, but some keys are missing (only with `fail_on_missing`)."""


def _date(value: Any, what: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise UserInputError(f"metrics.collect: {what} is not a date (YYYY-MM-DD): {value!r}") from None


def _fill(template: Any, location: str) -> Any:
    if isinstance(template, str):
        safe = "".join(c if c.isalnum() else "_" for c in location)
        return template.replace("{location}", location).replace("{LOCATION}", safe.upper())
    return template


def _od_connect(ctx: StepContext, cfg: Mapping[str, Any]) -> Any:
    from golive.tasks.pms.config import connect, settings_for

    def connect_location(loc: str) -> Any:
        override = {k: _fill(v, loc) for k, v in dict(cfg.get("connection") or {}).items()}
        location = ctx.org.location(loc) if ctx.org is not None and hasattr(ctx.org, "location") else {"id": loc}
        return connect(settings_for(location, override or None))

    return connect_location


def _status_page(ctx: StepContext) -> Mapping[str, Any] | None:
    vendor = getattr(ctx.org, "vendor", None)
    return getattr(vendor, "status_page", None)


def _client(name: str, cfg: Mapping[str, Any], headers: dict[str, str], auth: tuple[str, str] | None,
            default_interval: float) -> PacedClient:
    if not cfg.get("base_url"):
        raise UserInputError(f"metrics.collect: sources.{name}.base_url is required")
    return PacedClient(name, str(cfg["base_url"]), headers, auth,
                       Pacer(float(cfg.get("interval_s", default_interval))),
                       attempts=int(cfg.get("attempts", 4)), allow_insecure_local=bool(cfg.get("allow_insecure_local")))


def build(ctx: StepContext, sources: Mapping[str, Any], store: Any) -> list[Collector]:
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise UserInputError(f"metrics.collect: unknown source(s) {', '.join(unknown)}; sources: {', '.join(SOURCES)}")
    out: list[Collector] = []
    for name, raw in sources.items():
        cfg = dict(raw or {})
        if name == "opendental":
            out.append(OpenDentalCollector(_od_connect(ctx, cfg), workers=int(cfg.get("workers", 8)),
                                           platform_marker=cfg.get("platform_marker")))
        elif name == "zendesk":
            token = resolve(str(cfg.get("token", "")), "sources.zendesk.token").reveal()
            auth = (f"{cfg.get('email', '')}/token", token)
            out.append(ZendeskCollector(_client(name, cfg, {"Accept": "application/json"}, auth, ZENDESK_INTERVAL_S),
                                        location_filter=str(cfg.get("location_filter", "tags:{location}")),
                                        critical=str(cfg.get("critical", "priority:urgent"))))
        elif name == "xapi":
            password = resolve(str(cfg.get("password", "")), "sources.xapi.password").reveal()
            staff = {str(k): int(v) for k, v in dict(cfg.get("staff") or {}).items()}
            if not cfg.get("activity") or not cfg.get("since"):
                raise UserInputError("metrics.collect: sources.xapi needs activity (the course IRI) and since "
                                     "(the programme start date)")
            client = _client(name, cfg, {"X-Experience-API-Version": VERSION}, (str(cfg.get("username", "")), password),
                             XAPI_INTERVAL_S)
            out.append(XapiCollector(client, activity=str(cfg["activity"]), staff=staff,
                                     since=_date(cfg["since"], "sources.xapi.since"),
                                     location_extension=str(cfg.get("location_extension") or LOCATION_EXT)))
        elif name == "lms_csv":
            if not cfg.get("file"):
                raise UserInputError("metrics.collect: sources.lms_csv.file is required (the LMS's course completion CSV)")
            from golive.tasks.foundation import paths

            out.append(LmsCsvCollector(paths.data_file(str(cfg["file"])), str(cfg.get("location_column") or "Department"),
                                       str(cfg.get("date_format") or "%d/%m/%y, %H:%M")))
        elif name == "probe" and _status_page(ctx) is None:
            out.append(ProbeCollector(store))
        elif name in ("probe", "statuspage"):
            page = dict(raw or {}) if name == "statuspage" else {}
            page = {**(_status_page(ctx) or {}), **page}
            if not page.get("url") or not page.get("component"):
                raise UserInputError("metrics.collect: sources.statuspage needs url and component "
                                     "(or the organization's vendor.status_page)")
            client = _client("statuspage", {**page, "base_url": page["url"]}, {"Accept": "application/json"}, None,
                             STATUSPAGE_INTERVAL_S)
            out.append(StatuspageCollector(client, str(page["component"]), dict(page.get("components") or {})))
        else:
            if not cfg.get("file"):
                raise UserInputError("metrics.collect: sources.survey.file is required")
            from golive.tasks.foundation import paths

            out.append(SurveyCollector(paths.data_file(str(cfg["file"]))))
    check_collectors(out)
    return out


def _locations(ctx: StepContext, params: Mapping[str, Any], store: Any) -> list[str]:
    if params.get("locations"):
        raw = params["locations"]
        locs = [s.strip() for s in raw.split(",")] if isinstance(raw, str) else [str(x) for x in raw]
    else:
        org = getattr(ctx.org, "locations", None)
        locs = [loc.id for loc in org] if org is not None else []
    if params.get("live_only"):
        live = {k for k, v in repository.rollout(store).items() if v.get("status") == "live"}
        locs = [loc for loc in locs if loc in live] if locs else sorted(live)
    return locs


def run_collect(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    if store is None:
        raise UserInputError(f"step {ctx.step_key} needs the store")
    if params.get("day") and (params.get("start") or params.get("end")):
        raise UserInputError("metrics.collect: give day, or start and end, not both")
    if params.get("start") or params.get("end"):
        if not (params.get("start") and params.get("end")):
            raise UserInputError("metrics.collect: a period needs both start and end")
        period = days(_date(params["start"], "start"), _date(params["end"], "end"))
    else:
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        period = [_date(params["day"], "day") if params.get("day") else yesterday]
    sources = params.get("sources") or {}
    if not isinstance(sources, Mapping) or not sources:
        raise UserInputError("metrics.collect: sources must name at least one source: " + ", ".join(SOURCES))
    locations = _locations(ctx, params, store)
    if not locations:  # said plainly: an empty collection must not look like a quiet success
        ctx.logger.warning("metrics.collect: no locations to collect%s", " (none is live)" if params.get("live_only") else "")
    collectors = build(ctx, sources, store)
    if params.get("calendar"):
        cal = office_calendar(params["calendar"])
        closed_days = {loc: cal for loc in locations}
    else:
        closed_days = calendars(ctx.org, locations)
    written, missing, errors, closed = 0, [], {}, 0
    try:
        if len(period) > 1 and locations:  # a backfill: sources that can read the period once do so
            for c in collectors:
                if hasattr(c, "prefetch"):
                    c.prefetch(period[0], locations)
        for d in period:
            if not locations:
                break
            rep = collect_day(store, collectors, d, locations, run_id=ctx.run_id, calendars=closed_days)
            written += rep.written
            closed += rep.closed
            missing += rep.missing
            errors.update({f"{src} {d}": e for src, e in rep.errors.items()})
    finally:
        for c in collectors:
            client = getattr(c, "client", None)
            if client is not None:
                client.close()
    summary = [{"source": c.source, "metrics": ", ".join(c.metrics),
                "missing": sum(1 for m in missing if m["source"] == c.source)} for c in collectors]
    ctx.artifacts.table(f"metrics-collected-{ctx.step_key}".lower().replace(".", "-")[:60], summary,
                        description=f"{written} samples for {len(locations)} location(s), {period[0]}..{period[-1]}; "
                                    f"{len(missing)} missing")
    ctx.audit("metrics.collected", {"step": ctx.step_key, "first": period[0].isoformat(), "last": period[-1].isoformat(),
                                    "locations": locations, "written": written, "missing": len(missing),
                                    "sources": [c.source for c in collectors], "errors": errors})
    out = {"first": period[0].isoformat(), "last": period[-1].isoformat(), "days": len(period),
           "locations": locations, "written": written, "missing": len(missing), "missing_keys": missing[:100],
           "closed": closed,
           "errors": errors, "sources": [c.source for c in collectors],
           "note": "" if locations else "no locations to collect" + (" (none is live)" if params.get("live_only") else "")}
    if missing and params.get("fail_on_missing"):
        raise MissingMetrics(f"{len(missing)} metric-day(s) missing: " + "; ".join(
            f"{m['location']} {m['metric']} {m['day']} ({m['reason']})" for m in missing[:5]))
    return out


KINDS: tuple[StepKind, ...] = (StepKind("metrics.collect", run_collect),)
