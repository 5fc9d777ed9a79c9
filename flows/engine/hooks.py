"""Process-local callbacks the CLI installs around a run: progress events and a terminal prompt.

A deployment run leaves them empty (progress is the Prefect UI; decisions come from its forms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from golive.flows.engine.inputs import Asker


@dataclass
class Hooks:
    on_event: Callable[[str, dict[str, Any]], None] | None = None
    ask: Asker | None = None

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event, data)


HOOKS = Hooks()
