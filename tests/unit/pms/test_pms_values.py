from __future__ import annotations

import pytest

from golive.tasks.pms import cdt
from golive.tasks.pms.protocol import Patient, PmsBadRequest, PmsConfigError, Version
from golive.tasks.pms.pseudonym import pseudonym
from golive.tasks.pms.secrets import check_reference, resolve


@pytest.mark.parametrize(
    ("have", "need", "ok"),
    [("22.4.16.0", "22.4.16", True), ("22.4.9", "22.4.16", False), ("23.2.17", "23.2.17", True),
     ("G7.4", "7.4", True), ("G7.3", "7.4", False), ("21.20.08", "21.0", True), ("20.00", "21.0", False)],
)
def test_version_compare(have: str, need: str, ok: bool) -> None:
    assert Version.parse(have).at_least(need) is ok


def test_version_rejects_text_without_numbers() -> None:
    with pytest.raises(PmsBadRequest):
        Version.parse("unknown")


def test_patient_repr_hides_phi() -> None:
    p = Patient("123", "Doe-SECRET", "Jane-SECRET", "1970-01-02", "2024-01-01 00:00:00")
    assert "SECRET" not in repr(p) and "1970" not in repr(p) and "123" not in repr(p)


def test_pseudonym_is_stable_keyed_and_location_bound() -> None:
    a = pseudonym("opendental", "downtown", "42", key=b"k1")
    assert a == pseudonym("opendental", "downtown", "42", key=b"k1")
    assert a != pseudonym("opendental", "eastside", "42", key=b"k1")
    assert a != pseudonym("opendental", "downtown", "42", key=b"k2")
    assert a.startswith("P-") and len(a) == 18


def test_secret_references_only() -> None:
    with pytest.raises(PmsConfigError, match="literal credentials are not accepted"):
        check_reference("sk-live-1234", "secret")
    s = resolve("env:MY_KEY", env={"MY_KEY": "v4lue"}.get)
    assert s.reveal() == "v4lue" and "v4lue" not in repr(s) and "v4lue" not in str(s)
    with pytest.raises(PmsConfigError, match="MISSING is not set"):
        resolve("env:MISSING", env={}.get)


@pytest.mark.parametrize(("code", "cat"), [("D0367", "diagnostic"), ("D6010", "implant-services"),
                                           ("D8080", "orthodontics"), ("D0099", None), ("N4101", None),
                                           ("D601", None), ("d6010", None)])
def test_cdt_form_and_range(code: str, cat: str | None) -> None:
    assert cdt.category(code) == cat


def test_platform_codes_are_all_cdt_and_no_descriptions_shipped() -> None:
    assert all(cdt.category(c) for c in cdt.PLATFORM_CODES)
    assert all(isinstance(c, str) and len(c) == 5 for c in cdt.PLATFORM_CODES)


def test_prefect_secret_reference_is_loaded_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks import system

    loaded: list[str] = []

    class FakeBlock:
        def get(self) -> str:
            return "from-block"

    def fake_load(name: str) -> FakeBlock:
        loaded.append(name)
        return FakeBlock()

    monkeypatch.setattr(system.Secret, "load", staticmethod(fake_load))
    assert resolve("prefect-secret:od-customer-key").reveal() == "from-block"
    assert loaded == ["od-customer-key"]
