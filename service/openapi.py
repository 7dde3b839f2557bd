"""The committed openapi.yaml is rendered from the code by this module."""

import yaml

from service.app import create_app
from service.settings import BizonSettings, Secret, Settings

# Placeholder settings: the schema does not depend on them, only on the code.
_DOC_SETTINGS = Settings(
    database_url="postgresql://docs@localhost/docs",
    redis_url="redis://localhost:6379/0",
    bizon=BizonSettings(base_url="http://localhost:8101", login="docs", password=Secret("docs")),
)


def render() -> str:
    app = create_app(_DOC_SETTINGS)
    schema = app.openapi_schema.to_schema()
    return yaml.safe_dump(schema, sort_keys=True, allow_unicode=True, width=100)
