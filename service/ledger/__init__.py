"""The PostgreSQL ledger: the only place SQL lives."""

from service.ledger.repository import PostgresLedger

__all__ = ["PostgresLedger"]
