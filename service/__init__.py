"""Payment orchestrator: one normalized API over several payment providers."""
