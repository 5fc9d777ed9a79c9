"""Eaglesoft connector: its SQL Anywhere database over ODBC, MODELLED ON THIRD-PARTY DOCUMENTATION.

Patients from `patient`, planned work from `planned_services`, the version from
`system_preferences.version`, the practice's code list from `services`. Read-only: treatment-plan
write-back is reported "not supported by this route" (Patterson enables its bridge separately).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, create_engine, text

from golive.tasks.pms.protocol import Procedure
from golive.tasks.pms.sqlroute import Layout, SqlViewConnector

LAYOUT = Layout(
    patient_table=(None, "patient"),
    patient_cols={"id": "patient_id", "last": "last_name", "first": "first_name", "birth": "birth_date",
                  "stamp": "date_last_modified"},
    code_table=(None, "services"),
    code_cols={"id": "service_id", "code": "service_code"},
)


def probe_version(engine: Engine) -> str:
    with engine.connect() as c:
        return str(c.execute(text("SELECT version FROM system_preferences")).scalar_one())


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=not url.startswith("sqlite"))


class EaglesoftConnector(SqlViewConnector):
    system = "eaglesoft"
    layout = LAYOUT

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        stmt = text("SELECT line_number, patient_id, service_code, status, date_planned FROM planned_services"
                    " WHERE patient_id = :p ORDER BY line_number")
        return [Procedure(str(r["line_number"]), str(r["patient_id"]), str(r["service_code"]).strip(),
                          str(r["status"]), str(r["date_planned"]))
                for r in self._rows(stmt, "reading planned services", {"p": patient_id})]
