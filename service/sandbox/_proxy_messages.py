"""The validation messages of the Proxy-Solutions sandbox in English, Russian, Ukrainian.

Laravel-style: ``{field}`` is the field's name with spaces for underscores (nested ones
dotted: "server options.os"); the Russian and Ukrainian texts keep the field names as sent.
"""

# ruff: noqa: RUF001 - Cyrillic letters in Russian and Ukrainian texts are intended.

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("EN", "RU", "UA")

# Message key -> (EN, RU, UA). ``{field}`` is the field's name with spaces for underscores.
MESSAGES: Mapping[str, tuple[str, str, str]] = {
    "required": (
        "The {field} field is required.",
        "Поле {field} обязательно для заполнения.",
        "Поле {field} є обов'язковим для заповнення.",
    ),
    "string": (
        "The {field} must be a string.",
        "Поле {field} должно быть строкой.",
        "Поле {field} має бути рядком.",
    ),
    "integer": (
        "The {field} must be an integer.",
        "Поле {field} должно быть целым числом.",
        "Поле {field} має бути цілим числом.",
    ),
    "number": (
        "The {field} must be a number.",
        "Поле {field} должно быть числом.",
        "Поле {field} має бути числом.",
    ),
    "boolean": (
        "The {field} field must be true or false.",
        "Поле {field} должно иметь значение true или false.",
        "Поле {field} повинно мати значення true або false.",
    ),
    "object": (
        "The {field} must be an object.",
        "Поле {field} должно быть объектом.",
        "Поле {field} має бути об'єктом.",
    ),
    "between": (
        "The {field} must be between {low} and {high}.",
        "Поле {field} должно быть между {low} и {high}.",
        "Поле {field} має бути між {low} та {high}.",
    ),
    "greater": (
        "The {field} must be greater than {low}.",
        "Поле {field} должно быть больше {low}.",
        "Поле {field} має бути більше {low}.",
    ),
    "max": (
        "The {field} must not be greater than {high}.",
        "Поле {field} не может быть больше {high}.",
        "Поле {field} не може бути більше {high}.",
    ),
    "decimals": (
        "The {field} must have at most {places} decimal places.",
        "Поле {field} должно содержать не более {places} знаков после запятой.",
        "Поле {field} має містити не більше {places} знаків після коми.",
    ),
    "selected": (
        "The selected {field} is invalid.",
        "Выбранное значение для {field} некорректно.",
        "Вибране значення для {field} некоректне.",
    ),
    "promocode": (
        "The promocode is invalid.",
        "Промокод недействителен.",
        "Промокод недійсний.",
    ),
    "mobile_only": (
        "The {field} field is only available for mobile proxies.",
        "Поле {field} доступно только для мобильных прокси.",
        "Поле {field} доступне лише для мобільних проксі.",
    ),
    "hosting_only": (
        "The {field} field is only available for hosting servers.",
        "Поле {field} доступно только для серверов хостинга.",
        "Поле {field} доступне лише для серверів хостингу.",
    ),
    "body": (
        "The request body must be a JSON object.",
        "Тело запроса должно быть JSON-объектом.",
        "Тіло запиту має бути JSON-об'єктом.",
    ),
    "service_not_found": ("Service not found.", "Сервис не найден.", "Сервіс не знайдено."),
}


def message(lang: str, key: str, field: str = "", **params: object) -> str:
    """Render one message in ``lang`` (EN for an unknown language)."""
    templates = MESSAGES[key]
    template = templates[LANGS.index(lang)] if lang in LANGS else templates[0]
    return template.format(field=field.replace("_", " "), **params)
