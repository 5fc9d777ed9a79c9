"""Dentrix connector: ODBC views, MODELLED ON THIRD-PARTY DOCUMENTATION (Dentrix has no open API).

Patients from `admin.v_patient`, procedures through the stored procedure
`admin.sp_getpatientprocedures`, the version from the Dentrix API's `GetDentrixVersion` (called as a
SQL function by the bridge, or reported by IT in the location's config). `admin.v_appt` and
`admin.v_provider` are part of the route but not needed by the battery. Read-only: treatment-plan
write-back is reported "not supported by this route".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from golive.tasks.pms.protocol import Procedure
from golive.tasks.pms.sqlroute import Layout, SqlViewConnector

LAYOUT = Layout(
    patient_table=("admin", "v_patient"),
    patient_cols={"id": "patid", "last": "lastname", "first": "firstname", "birth": "birthdate",
                  "stamp": "lastupdate"},
    code_table=("admin", "v_proccode"),
    code_cols={"id": "proccodeid", "code": "adacode"},
)


def probe_version(engine: Engine) -> str:
    with engine.connect() as c:
        return str(c.execute(text("SELECT GetDentrixVersion()")).scalar_one())


def make_engine(url: str) -> Engine:
    """An engine for the route; a `sqlite:///FILE` URL is the stand-in, its views attached as `admin`."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    path = str(Path(u.database or "").resolve())
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "connect")
    def _attach(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"ATTACH DATABASE '{path}' AS admin")
        version = dbapi_conn.execute("SELECT version FROM admin.standin_version").fetchone()[0]
        dbapi_conn.create_function("GetDentrixVersion", 0, lambda: version)

    return engine


class DentrixConnector(SqlViewConnector):
    system = "dentrix"
    layout = LAYOUT

    def procedures(self, patient_id: str) -> Sequence[Procedure]:
        if self.engine.dialect.name == "sqlite":  # the stand-in models the procedure's result set as a view
            stmt = text("SELECT procid, patid, adacode, procstatus, procdate FROM admin.sp_getpatientprocedures"
                        " WHERE patid = :p ORDER BY procid")
        else:
            stmt = text("EXEC admin.sp_getpatientprocedures :p")
        return [Procedure(str(r["procid"]), str(r["patid"]), str(r["adacode"]).strip(), str(r["procstatus"]),
                          str(r["procdate"]))
                for r in self._rows(stmt, "reading procedures", {"p": patient_id})]
