"""Every metric-source SIMULATOR at once, seeded with one month (tests, `make demo`, `make bench`).

`start_rig(...)` starts the Open Dental farm (one simulated office per location), the Zendesk and
LRS simulators, seeds probe results into the store and writes a survey export; `rig.sources()` is
the `metrics.collect` `sources:` block for them, with secrets as `env:` references whose values
`rig.env()` gives (the caller puts them in the environment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from golive.tasks.gates.collect.sim.lrs import LrsState
from golive.tasks.gates.collect.sim.lrs import create_app as lrs_app
from golive.tasks.gates.collect.sim.month import PLATFORM_MARKER, Month
from golive.tasks.gates.collect.sim.od_farm import OdFarm, start_farm
from golive.tasks.gates.collect.sim.server import Served, serve
from golive.tasks.gates.collect.sim.statuspage import StatuspageState
from golive.tasks.gates.collect.sim.statuspage import create_app as statuspage_app
from golive.tasks.gates.collect.sim.zendesk import ZendeskState
from golive.tasks.gates.collect.sim.zendesk import create_app as zendesk_app

COURSE = "https://golive.dev/xapi/activities/platform-training"


@dataclass
class Rig:
    month: Month
    farm: OdFarm
    zendesk: ZendeskState
    zendesk_served: Served
    lrs: LrsState
    lrs_served: Served
    staff: dict[str, int]
    survey: Path
    uptime: str = "probe"  # or "statuspage": the vendor's status page simulator
    training: str = "xapi"  # or "lms_csv": a Moodle course completion CSV
    statuspage: StatuspageState | None = None
    statuspage_served: Served | None = None
    components: dict[str, str] | None = None
    lms_csv: Path | None = None

    def env(self) -> dict[str, str]:
        return {**self.farm.env(), "GOLIVE_SIM_ZENDESK_TOKEN": self.zendesk.token,
                "GOLIVE_SIM_LRS_PASSWORD": self.lrs.password}

    def sources(self, *, od_interval_s: float = 0.0, zendesk_interval_s: float = 0.0,
                xapi_interval_s: float = 0.0, statuspage_interval_s: float = 0.0,
                include: tuple[str, ...] | None = None) -> dict[str, Any]:
        all_ = {
            "opendental": {"connection": {
                "product": "opendental", "base_url": f"{self.farm.served.url}/{{location}}/api/v1",
                "secret": "env:GOLIVE_SIM_OD_{LOCATION}", "developer_secret": "env:GOLIVE_SIM_OD_DEV",
                "allow_insecure_local": True, "request_interval_s": od_interval_s},
                "platform_marker": PLATFORM_MARKER},
            "zendesk": {"base_url": self.zendesk_served.url, "email": self.zendesk.email,
                        "token": "env:GOLIVE_SIM_ZENDESK_TOKEN", "interval_s": zendesk_interval_s,
                        "allow_insecure_local": True},
            "xapi": {"base_url": f"{self.lrs_served.url}/xapi", "username": self.lrs.username,
                     "password": "env:GOLIVE_SIM_LRS_PASSWORD", "activity": COURSE,
                     "since": self.month.start.isoformat(), "staff": self.staff, "interval_s": xapi_interval_s,
                     "allow_insecure_local": True},
            "probe": {},
            "survey": {"file": str(self.survey)},
        }
        if self.training == "lms_csv":
            del all_["xapi"]
            all_["lms_csv"] = {"file": str(self.lms_csv)}
        if self.uptime == "statuspage":
            assert self.statuspage_served is not None and self.components is not None
            del all_["probe"]
            all_["statuspage"] = {"url": self.statuspage_served.url, "component": "none",
                                  "components": self.components, "allow_insecure_local": True,
                                  "interval_s": statuspage_interval_s}
        return {k: v for k, v in all_.items() if include is None or k in include}

    def stop(self) -> None:
        self.farm.stop()
        self.zendesk_served.stop()
        self.lrs_served.stop()
        if self.statuspage_served is not None:
            self.statuspage_served.stop()


def start_rig(directory: Path, locations: list[str], start: date, days: int, store: Any, *, seed: int = 7,
              gap_days: set[tuple[str, date]] | None = None, od_throttle_s: float = 0.0,
              probes_per_day: int = 24, uptime: str = "probe", training: str = "xapi") -> Rig:
    """`uptime` (probe | statuspage) and `training` (xapi | lms_csv) pick which source of each the
    month is seeded in (one truth per key)."""
    month = Month(locations, start, days, seed=seed, gap_days=set(gap_days or ()))
    farm = start_farm(directory / "opendental", locations, throttle_s=od_throttle_s)
    month.seed_opendental(farm.dbs)
    zd = ZendeskState()
    month.seed_zendesk(zd)
    lrs = LrsState()
    staff = month.seed_lrs(lrs, COURSE) if training == "xapi" else {}
    lms = None
    if training == "lms_csv":
        lms = directory / "course-completion.csv"
        month.write_lms_csv(lms)
    sp, components = None, None
    if uptime == "statuspage":
        sp = StatuspageState()
        components = month.seed_statuspage(sp)
    else:
        month.seed_probes(store, probes_per_day)
    survey = directory / "champion-survey.csv"
    month.write_survey(survey)
    return Rig(month, farm, zd, serve(zendesk_app(zd)), lrs, serve(lrs_app(lrs)), staff, survey, uptime, training,
               sp, serve(statuspage_app(sp)) if sp is not None else None, components, lms)
