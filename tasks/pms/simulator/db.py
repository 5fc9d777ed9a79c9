"""The simulator's SQLite database: schema (Open Dental table subset) and deterministic fake seed data."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.pms.simulator import CANARY_TOKEN

SCHEMA = """
CREATE TABLE IF NOT EXISTS patient (PatNum INTEGER PRIMARY KEY, LName TEXT, FName TEXT, Birthdate TEXT,
  SSN TEXT, Gender TEXT, PatStatus TEXT, DateTStamp TEXT);
CREATE TABLE IF NOT EXISTS procedurecode (CodeNum INTEGER PRIMARY KEY, ProcCode TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS procedurelog (ProcNum INTEGER PRIMARY KEY, PatNum INTEGER, CodeNum INTEGER,
  ProcDate TEXT, ProcStatus TEXT, ToothNum TEXT, DateTStamp TEXT);
CREATE TABLE IF NOT EXISTS allergy (AllergyNum INTEGER PRIMARY KEY, PatNum INTEGER, AllergyDefNum INTEGER,
  Reaction TEXT, StatusIsActive TEXT);
CREATE TABLE IF NOT EXISTS medicationpat (MedicationPatNum INTEGER PRIMARY KEY, PatNum INTEGER,
  MedicationNum INTEGER, PatNote TEXT);
CREATE TABLE IF NOT EXISTS patplan (PatPlanNum INTEGER PRIMARY KEY, PatNum INTEGER, InsSubNum INTEGER,
  Ordinal INTEGER, Relationship TEXT);
CREATE TABLE IF NOT EXISTS treatplan (TreatPlanNum INTEGER PRIMARY KEY, PatNum INTEGER, DateTP TEXT,
  Heading TEXT, Note TEXT, TPStatus TEXT, TPType TEXT, SecDateTEdit TEXT);
CREATE TABLE IF NOT EXISTS treatplanattach (TreatPlanAttachNum INTEGER PRIMARY KEY, TreatPlanNum INTEGER,
  ProcNum INTEGER, Priority INTEGER);
CREATE TABLE IF NOT EXISTS document (DocNum INTEGER PRIMARY KEY, PatNum INTEGER, FileName TEXT,
  Description TEXT, DocCategory INTEGER, ImgType TEXT, DateCreated TEXT, RawBase64 TEXT);
"""

# CDT-form codes only (no ADA descriptions), plus two local codes a practice might keep.
SEED_CODES = (
    "D0120", "D0140", "D0150", "D0210", "D0220", "D0330", "D0364", "D0367", "D1110", "D1120",
    "D2140", "D2391", "D2740", "D2750", "D2950", "D3310", "D3330", "D4341", "D4910", "D5110",
    "D6010", "D6056", "D6057", "D6058", "D6065", "D6104", "D7140", "D7210", "D7240", "D7953",
    "D8080", "D8090", "D9110", "D9310", "N4101", "Z1234",
)
# Open Dental definitions: image categories (DocCategory) the simulator files images under.
DOC_CATEGORIES = {100: "X-Rays", 101: "Photos", 102: "Treatment Plans", 103: "CBCT"}
_SURNAMES = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper")
_GIVEN = ("Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ike", "Jo")


def now_text() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


class SimDb:
    """One SQLite connection behind a lock: the simulator is a test fixture, not a database server."""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, tuple(args)).fetchall()]

    def execute(self, sql: str, args: Iterable[Any] = ()) -> int:
        with self.lock:
            cur = self.conn.execute(sql, tuple(args))
            return int(cur.lastrowid or 0)

    def is_empty(self) -> bool:
        return not self.query("SELECT 1 FROM patient LIMIT 1")

    def seed(self, patients: int, seed: int) -> None:
        """Invented patients; PatNum 1 is the designated test patient (with treatment-planned work)."""
        rng = random.Random(seed)
        stamp = (datetime(2024, 1, 1) + timedelta(seconds=seed)).strftime("%Y-%m-%d %H:%M:%S")
        with self.lock:
            c = self.conn
            c.execute("BEGIN")
            c.executemany(
                "INSERT INTO procedurecode (CodeNum, ProcCode) VALUES (?, ?)",
                [(i + 1, code) for i, code in enumerate(SEED_CODES)],
            )
            for n in range(1, patients + 1):
                token = f"{CANARY_TOKEN}{rng.randrange(16**6):06x}"
                last = "Testpatient" if n == 1 else rng.choice(_SURNAMES)
                birth = f"{rng.randint(1931, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                c.execute(
                    "INSERT INTO patient VALUES (?, ?, ?, ?, ?, ?, 'Patient', ?)",
                    (n, f"{last}-{token}", f"{rng.choice(_GIVEN)}-{token}", birth, f"SSN-{token}",
                     rng.choice("MF"), stamp),
                )
                for k in range(3 if n == 1 else rng.randint(1, 3)):
                    code_num = rng.randint(1, len(SEED_CODES))
                    status = "TP" if (n == 1 or k == 0) else "C"
                    c.execute(
                        "INSERT INTO procedurelog (PatNum, CodeNum, ProcDate, ProcStatus, ToothNum, DateTStamp)"
                        " VALUES (?, ?, '2024-02-01', ?, ?, ?)",
                        (n, code_num, status, str(rng.randint(1, 32)), stamp),
                    )
                if n == 1 or rng.random() < 0.3:
                    c.execute("INSERT INTO allergy (PatNum, AllergyDefNum, Reaction, StatusIsActive)"
                              " VALUES (?, 1, ?, 'true')", (n, f"rash-{token}"))
                if n == 1 or rng.random() < 0.4:
                    c.execute("INSERT INTO medicationpat (PatNum, MedicationNum, PatNote) VALUES (?, 1, ?)",
                              (n, f"note-{token}"))
                if n == 1 or rng.random() < 0.7:
                    c.execute("INSERT INTO patplan (PatNum, InsSubNum, Ordinal, Relationship)"
                              " VALUES (?, ?, 1, 'Self')", (n, n))
                if n == 1 or rng.random() < 0.2:
                    c.execute(
                        "INSERT INTO document (PatNum, FileName, Description, DocCategory, ImgType, DateCreated,"
                        " RawBase64) VALUES (?, ?, ?, 103, 'Radiograph', ?, '')",
                        (n, f"cbct-{token}.dcm", f"CBCT {token}", stamp),
                    )
            c.execute("COMMIT")
