"""The simulator's SQLite database: schema (Open Dental table subset) and deterministic fake seed data."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.pms import cdt
from golive.tasks.pms.simulator import CANARY_TOKEN

SCHEMA = """
CREATE TABLE IF NOT EXISTS patient (PatNum INTEGER PRIMARY KEY, LName TEXT, FName TEXT, Birthdate TEXT,
  SSN TEXT, Gender TEXT, PatStatus TEXT, ClinicNum INTEGER DEFAULT 0, PriProv INTEGER DEFAULT 1,
  DateTStamp TEXT, SecDateEntry TEXT);
CREATE TABLE IF NOT EXISTS procedurecode (CodeNum INTEGER PRIMARY KEY, ProcCode TEXT UNIQUE, ProcCat INTEGER,
  DateTStamp TEXT);
CREATE TABLE IF NOT EXISTS procedurelog (ProcNum INTEGER PRIMARY KEY, PatNum INTEGER, CodeNum INTEGER,
  ProcDate TEXT, ProcFee TEXT, ProcStatus TEXT, ToothNum TEXT, ProvNum INTEGER DEFAULT 1,
  ClinicNum INTEGER DEFAULT 0, DateTP TEXT, DateTStamp TEXT, SecDateEntry TEXT);
CREATE TABLE IF NOT EXISTS allergy (AllergyNum INTEGER PRIMARY KEY, PatNum INTEGER, AllergyDefNum INTEGER,
  Reaction TEXT, StatusIsActive TEXT);
CREATE TABLE IF NOT EXISTS medicationpat (MedicationPatNum INTEGER PRIMARY KEY, PatNum INTEGER,
  MedicationNum INTEGER, PatNote TEXT);
CREATE TABLE IF NOT EXISTS patplan (PatPlanNum INTEGER PRIMARY KEY, PatNum INTEGER, InsSubNum INTEGER,
  Ordinal INTEGER, Relationship TEXT);
CREATE TABLE IF NOT EXISTS treatplan (TreatPlanNum INTEGER PRIMARY KEY, PatNum INTEGER, DateTP TEXT,
  Heading TEXT, Note TEXT, TPStatus TEXT, TPType TEXT, SecDateEntry TEXT, SecDateTEdit TEXT,
  DateTSigned TEXT DEFAULT '0001-01-01 00:00:00');
CREATE TABLE IF NOT EXISTS treatplanattach (TreatPlanAttachNum INTEGER PRIMARY KEY, TreatPlanNum INTEGER,
  ProcNum INTEGER, Priority INTEGER);
CREATE TABLE IF NOT EXISTS document (DocNum INTEGER PRIMARY KEY, PatNum INTEGER, FileName TEXT,
  Description TEXT, DocCategory INTEGER, ImgType TEXT, DateCreated TEXT, DateTStamp TEXT, ToothNumbers TEXT,
  Note TEXT, RawBase64 TEXT);
CREATE TABLE IF NOT EXISTS mount (MountNum INTEGER PRIMARY KEY, PatNum INTEGER, DocCategory INTEGER,
  DateCreated TEXT, Description TEXT, Note TEXT);
CREATE INDEX IF NOT EXISTS patient_stamp ON patient (DateTStamp);
CREATE INDEX IF NOT EXISTS procedurelog_pat ON procedurelog (PatNum);
CREATE INDEX IF NOT EXISTS procedurelog_stamp ON procedurelog (DateTStamp);
CREATE INDEX IF NOT EXISTS allergy_pat ON allergy (PatNum);
CREATE INDEX IF NOT EXISTS medicationpat_pat ON medicationpat (PatNum);
CREATE INDEX IF NOT EXISTS patplan_pat ON patplan (PatNum);
CREATE INDEX IF NOT EXISTS treatplan_pat ON treatplan (PatNum);
CREATE INDEX IF NOT EXISTS document_pat ON document (PatNum);
"""

# CDT-form codes only (no ADA descriptions), plus two local codes a practice might keep.
SEED_CODES = (
    "D0120", "D0140", "D0150", "D0210", "D0220", "D0330", "D0364", "D0367", "D1110", "D1120",
    "D2140", "D2391", "D2740", "D2750", "D2950", "D3310", "D3330", "D4341", "D4910", "D5110",
    "D6010", "D6056", "D6057", "D6058", "D6065", "D6104", "D7140", "D7210", "D7240", "D7953",
    "D8080", "D8090", "D9110", "D9310", "N4101", "Z1234",
)
# Open Dental definitions: image categories (definition.Category=18) the simulator files images under.
DOC_CATEGORIES = {100: "X-Rays", 101: "Photos", 102: "Treatment Plans", 103: "CBCT"}
# Procedure-code categories (definition.Category=11), named by CDT range, never by ADA wording.
PROC_CATS = {200 + i: name for i, (name, _lo, _hi) in enumerate(cdt.RANGES)}
PROC_CATS[299] = "local"
_SURNAMES = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper")
_GIVEN = ("Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ike", "Jo")
_TABLES = ("patient", "procedurecode", "procedurelog", "allergy", "medicationpat", "patplan", "treatplan",
           "treatplanattach", "document", "mount")


def now_text() -> str:
    """The simulated server's clock, in Open Dental's "yyyy-MM-dd HH:mm:ss"."""
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def proc_cat(code: str) -> int:
    name = cdt.category(code)
    return next((num for num, n in PROC_CATS.items() if n == name), 299)


class SimDb:
    """One SQLite connection behind a lock: the simulator is a test fixture, not a database server."""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()
        self.seeded: tuple[int, int] | None = None

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, tuple(args)).fetchall()]

    def execute(self, sql: str, args: Iterable[Any] = ()) -> int:
        with self.lock:
            cur = self.conn.execute(sql, tuple(args))
            return int(cur.lastrowid or 0)

    def is_empty(self) -> bool:
        return not self.query("SELECT 1 FROM patient LIMIT 1")

    def counts(self) -> dict[str, int]:
        """Rows per table: what tests compare to prove a check created nothing."""
        return {t: int(self.query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in _TABLES}

    def reset(self) -> None:
        """Back to the seeded state (tests share one simulator process)."""
        with self.lock:
            self.conn.executescript("".join(f"DELETE FROM {t};" for t in _TABLES))
        if self.seeded:
            self.seed(*self.seeded)

    def seed(self, patients: int, seed: int) -> None:
        """Invented patients; PatNum 1 is the designated test patient (treatment-planned work, a CBCT
        file, a photo, a PDF and a bitewing mount)."""
        self.seeded = (patients, seed)
        rng = random.Random(seed)
        stamp = (datetime(2024, 1, 1) + timedelta(seconds=seed)).strftime("%Y-%m-%d %H:%M:%S")
        with self.lock:
            c = self.conn
            c.execute("BEGIN")
            c.executemany(
                "INSERT INTO procedurecode (CodeNum, ProcCode, ProcCat, DateTStamp) VALUES (?, ?, ?, ?)",
                [(i + 1, code, proc_cat(code), stamp) for i, code in enumerate(SEED_CODES)],
            )
            for n in range(1, patients + 1):
                token = f"{CANARY_TOKEN}{rng.randrange(16**6):06x}"
                last = "Testpatient" if n == 1 else rng.choice(_SURNAMES)
                birth = f"{rng.randint(1931, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                c.execute(
                    "INSERT INTO patient (PatNum, LName, FName, Birthdate, SSN, Gender, PatStatus, DateTStamp,"
                    " SecDateEntry) VALUES (?, ?, ?, ?, ?, ?, 'Patient', ?, ?)",
                    (n, f"{last}-{token}", f"{rng.choice(_GIVEN)}-{token}", birth, f"SSN-{token}",
                     rng.choice("MF"), stamp, stamp[:10]),
                )
                for k in range(3 if n == 1 else rng.randint(1, 3)):
                    code_num = rng.randint(1, len(SEED_CODES))
                    status = "TP" if (n == 1 or k == 0) else "C"
                    c.execute(
                        "INSERT INTO procedurelog (PatNum, CodeNum, ProcDate, ProcFee, ProcStatus, ToothNum, DateTP,"
                        " DateTStamp, SecDateEntry) VALUES (?, ?, '2024-02-01', ?, ?, ?, '2024-01-15', ?, ?)",
                        (n, code_num, f"{rng.randint(40, 2400)}.00", status, str(rng.randint(1, 32)), stamp, stamp),
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
                files = [("cbct.dcm", 103, "Radiograph")] if (n == 1 or rng.random() < 0.2) else []
                if n == 1:
                    files += [("intraoral.jpg", 101, "Photo"), ("consent.pdf", 102, "Document")]
                for name, cat, img in files:
                    c.execute(
                        "INSERT INTO document (PatNum, FileName, Description, DocCategory, ImgType, DateCreated,"
                        " DateTStamp, ToothNumbers, Note, RawBase64) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '')",
                        (n, f"{last}{token}{n}-{name}", f"{name.split('.')[0]} {token}", cat, img, stamp, stamp),
                    )
                if n == 1:
                    c.execute("INSERT INTO mount (PatNum, DocCategory, DateCreated, Description, Note)"
                              " VALUES (?, 100, ?, ?, 'Bitewings')", (n, stamp, f"4BW {token}"))
            c.execute("COMMIT")
