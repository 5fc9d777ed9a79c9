"""Secret references: `env:NAME` or `prefect-secret:NAME`, resolved only when a connection is made.

A literal credential in configuration is refused: configuration holds where a secret lives, never
the secret. The resolved value is wrapped so that `repr`/`str` never print it. Shared by every
area that talks to a credentialed system (PMS connectors, DICOM TLS keys and certificates, the
identity provider, the platform API); each passes its own error class so its callers keep catching one family.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from golive.tasks.foundation.errors import GoliveError, UserInputError

SCHEMES = ("env", "prefect-secret")


class SecretUnavailable(UserInputError):
    """A secret reference is malformed or names a secret that cannot be read."""


@dataclass(frozen=True)
class Secret:
    """A resolved secret; only `.reveal()` gives the value."""

    ref: str
    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return f"<secret {self.ref}>"


def is_reference(text: object) -> bool:
    return isinstance(text, str) and text.partition(":")[0] in SCHEMES and bool(text.partition(":")[2])


def check_reference(text: object, what: str, error: type[GoliveError] = SecretUnavailable) -> str:
    """The reference itself, or `error` saying how to write one (never echoing the value)."""
    if not is_reference(text):
        raise error(
            f"{what} must be a secret reference such as 'env:NAME' or 'prefect-secret:NAME'; "
            "literal credentials are not accepted"
        )
    return str(text)


def _prefect_secret(name: str, error: type[GoliveError]) -> str:
    # Imported here: domain code stays Prefect-free unless a Prefect Secret block is referenced.
    from prefect.blocks.system import Secret as SecretBlock

    try:
        block: Any = SecretBlock.load(name)  # sync context: the block itself, not a coroutine
        return str(block.get())
    except ValueError:  # Prefect 3: "Unable to find block document named ..."
        raise error(f"there is no Prefect Secret block named {name!r} (create it in the Prefect UI, or "
                    f"with prefect.blocks.system.Secret(value=...).save({name!r}))") from None
    except Exception as exc:  # ObjectNotFound / httpx errors: the value itself is never shown
        raise error(f"Prefect Secret block {name!r} could not be loaded: {type(exc).__name__}") from None


def resolve(ref: str, what: str = "secret", *, env: Callable[[str], str | None] = os.environ.get,
            error: type[GoliveError] = SecretUnavailable) -> Secret:
    scheme, _, name = check_reference(ref, what, error).partition(":")
    if scheme == "env":
        value = env(name)
        if not value:
            raise error(f"{what}: environment variable {name} is not set")
        return Secret(ref, value)
    return Secret(ref, _prefect_secret(name, error))
