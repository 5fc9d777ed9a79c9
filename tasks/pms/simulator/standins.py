"""SQLite stand-ins for the Dentrix ODBC views and the Eaglesoft SQL Anywhere tables the connectors
read. Invented rows with PHI canaries, like the Open Dental simulator. Table and column names follow
the connectors' `Layout`s (modelled on third-party documentation), not a vendor's schema dump.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from golive.tasks.pms.simulator import CANARY_TOKEN
from golive.tasks.pms.simulator.db import SEED_CODES


def _people(n: int, seed: int) -> list[tuple[int, str, str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        tok = f"{CANARY_TOKEN}{rng.randrange(16**6):06x}"
        birth = f"{rng.randint(1931, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        out.append((i, f"Standin-{tok}", f"Pat-{tok}", birth))
    return out


def build_dentrix(path: str | Path, *, version: str = "G7.4", patients: int = 20, seed: int = 1) -> Path:
    """A file the Dentrix connector attaches as schema `admin` (`sqlite:///PATH` as its DSN)."""
    p = Path(path)
    con = sqlite3.connect(p)
    con.executescript("""
      CREATE TABLE standin_version (version TEXT);
      CREATE TABLE v_patient (patid INTEGER PRIMARY KEY, lastname TEXT, firstname TEXT, birthdate TEXT,
        lastupdate TEXT);
      CREATE TABLE v_provider (provid TEXT PRIMARY KEY, rsc_id TEXT);
      CREATE TABLE v_appt (appointment_id INTEGER PRIMARY KEY, patid INTEGER, appointment_date TEXT);
      CREATE TABLE v_proccode (proccodeid INTEGER PRIMARY KEY, adacode TEXT);
      CREATE TABLE procs (procid INTEGER PRIMARY KEY, patid INTEGER, adacode TEXT, procstatus TEXT, procdate TEXT);
      CREATE VIEW sp_getpatientprocedures AS SELECT procid, patid, adacode, procstatus, procdate FROM procs;
    """)
    con.execute("INSERT INTO standin_version VALUES (?)", (version,))
    con.executemany("INSERT INTO v_proccode VALUES (?, ?)", list(enumerate(SEED_CODES, 1)))
    rng = random.Random(seed)
    for pid, last, first, birth in _people(patients, seed):
        con.execute("INSERT INTO v_patient VALUES (?, ?, ?, ?, '2024-01-01 00:00:00')", (pid, last, first, birth))
        con.execute("INSERT INTO procs (patid, adacode, procstatus, procdate) VALUES (?, ?, 'TP', '2024-02-01')",
                    (pid, rng.choice(SEED_CODES)))
    con.commit()
    con.close()
    return p


def build_eaglesoft(path: str | Path, *, version: str = "21.20.08", patients: int = 20, seed: int = 1) -> Path:
    p = Path(path)
    con = sqlite3.connect(p)
    con.executescript("""
      CREATE TABLE system_preferences (version TEXT);
      CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, last_name TEXT, first_name TEXT, birth_date TEXT,
        date_last_modified TEXT);
      CREATE TABLE services (service_id INTEGER PRIMARY KEY, service_code TEXT);
      CREATE TABLE planned_services (line_number INTEGER PRIMARY KEY, patient_id INTEGER, service_code TEXT,
        status TEXT, date_planned TEXT);
    """)
    con.execute("INSERT INTO system_preferences VALUES (?)", (version,))
    con.executemany("INSERT INTO services VALUES (?, ?)", list(enumerate(SEED_CODES, 1)))
    rng = random.Random(seed)
    for pid, last, first, birth in _people(patients, seed):
        con.execute("INSERT INTO patient VALUES (?, ?, ?, ?, '2024-01-01 00:00:00')", (pid, last, first, birth))
        con.execute("INSERT INTO planned_services (patient_id, service_code, status, date_planned)"
                    " VALUES (?, ?, 'planned', '2024-02-01')", (pid, rng.choice(SEED_CODES)))
    con.commit()
    con.close()
    return p
