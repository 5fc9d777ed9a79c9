"""golive step kinds: plain-Python domain modules, each registered in `tasks.registry.STEP_KINDS`."""
