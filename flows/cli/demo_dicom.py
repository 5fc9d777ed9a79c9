"""`make demo`'s DICOM transport part: a TLS association and a refusal under a location's policy.

`prepare` issues a throw-away test CA and certificates (under the state folder) and points the
example organization's secret references for eastside-specialty's receiver at them, plus the
references the integration-validation sender uses. `show` runs that location's receiver policy on
loopback (its bind address belongs to the clinic's imaging network, not to this machine): a phantom
series goes in over TLS with a client certificate, a plain association is refused, and both are
in the audit log that the integration-validation run's transport check lists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Console

from golive.tasks.foundation import paths

LOCATION = "eastside-specialty"
SENDER_TLS = {"ca": "env:GOLIVE_DEMO_DICOM_CA", "certificate": "env:GOLIVE_DEMO_DICOM_CERT",
              "key": "env:GOLIVE_DEMO_DICOM_KEY"}


def prepare(found: dict[str, Any]) -> None:
    from golive.tasks.imaging.pki import issue_test_pki

    # its own folder: the compliance demo's platform simulator already serves a leaf of the CA in demo-pki
    pki = issue_test_pki(paths.state_dir() / "demo-pki-dicom")
    os.environ.update({
        "ACME_EASTSIDE_DICOM_CERT": str(pki.receiver.certificate), "ACME_EASTSIDE_DICOM_KEY": str(pki.receiver.key),
        "ACME_IMAGING_CA": str(pki.ca), "GOLIVE_DEMO_DICOM_CA": str(pki.ca),
        "GOLIVE_DEMO_DICOM_CERT": str(pki.sender.certificate), "GOLIVE_DEMO_DICOM_KEY": str(pki.sender.key)})
    found["dicom_endpoint"] = {"tls": SENDER_TLS}  # integration-validation's imaging_endpoint: the stand-in, over TLS


def show(console: Console) -> None:
    from golive.flows.engine.org import load_org
    from golive.tasks.imaging.errors import DicomNetworkError
    from golive.tasks.imaging.network import Peer, echo, send_series
    from golive.tasks.imaging.phantom import write_phantom
    from golive.tasks.imaging.policy import policy_for
    from golive.tasks.imaging.receiver import Receiver
    from golive.tasks.imaging.tls import client_tls
    from golive.tasks.imaging.usage import StoreLedger
    from golive.tasks.store import Store

    console.rule(f"DICOM transport security: {LOCATION}'s receiver policy, on loopback")
    policy = policy_for(load_org(None), LOCATION)
    assert policy is not None
    store = Store.open()
    series = write_phantom(paths.out_dir() / "demo-dicom" / "phantom", seed=3)
    files = sorted(Path(series).glob("*.dcm"))
    audited: list[tuple[str, Any]] = []

    def audit(event: str, data: Any) -> None:
        audited.append((event, dict(data)))
        store.audit.append(event, data)

    with Receiver(paths.out_dir() / "demo-dicom" / "received", host="127.0.0.1", port=0, tls_port=0, policy=policy,
                  audit=audit, ledger=StoreLedger(store)) as r:
        tls_peer = Peer("127.0.0.1", int(r.tls_port or 0), r.ae_title, "GOLIVE", 30, client_tls(SENDER_TLS, "127.0.0.1"))
        echo(tls_peer)
        report = send_series(files, tls_peer)
        try:
            echo(Peer("127.0.0.1", int(r.tls_port or 0), r.ae_title, "GOLIVE", 30))
            console.print("[red]a plain association was accepted on the TLS port[/]")
        except DicomNetworkError as exc:
            console.print(f"plain C-ECHO: {exc}", markup=False)
        received, refusals = r.received, r.refusals
    ok = sum(i.status == 0 for i in report.instances)
    console.print(f"sent over TLS with a client certificate: {ok}/{len(files)} phantom slices stored "
                  f"({len(received)} received)", markup=False)
    for event, data in audited:
        if event == "imaging.dicom_association":
            console.print(f"association from AE {data['calling_ae']} at {data['source']} on {data['listener']}: "
                          f"{data['tls']}, client certificate '{data['client_certificate']}', {data['objects']} "
                          f"object(s), {data['bytes'] / 1e6:.1f} MB, {data['outcome']}; audited", markup=False)
    for refusal in refusals:
        console.print(f"refused {refusal.calling_ae or '-'} from {refusal.source} on {refusal.listener}: "
                      f"{refusal.detail} ({refusal.reason.value}); audited", markup=False)
