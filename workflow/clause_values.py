"""Clause variables: their types and the validation of values (framework-free).

The clause library (contracts/) declares each option's variables; this module decides
whether a value fits one. It lives in the domain because services and guards validate
stored values without rendering anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

from .countries import is_eu_eea

VARIABLE_TYPES = (
    "string", "text", "integer", "decimal", "boolean", "date", "choice", "country",
    "eu_eea_country", "city",
)
_INT_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_TRUE = frozenset({"true", "on", "yes", "1", "y"})
_FALSE = frozenset({"false", "off", "no", "0", "n"})
_DEFAULT_MAX_LENGTH = {"string": 500, "text": 5000, "city": 100, "choice": 200}


class _Invalid(ValueError):
    """A single variable value is invalid; the message is shown to the user."""


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str
    default: Any
    required: bool
    min: int | Decimal | None = None
    max: int | Decimal | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data that `variable_from_dict` and the library loader both accept."""
        data: dict[str, Any] = {
            "name": self.name, "label": self.label, "type": self.type,
            "default": to_json(self.default), "required": self.required,
        }
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is not None:
                data[bound] = float(value) if isinstance(value, Decimal) else value
        if self.max_length is not None:
            data["max_length"] = self.max_length
        if self.choices:
            data["choices"] = list(self.choices)
        if self.help:
            data["help"] = self.help
        return data


def selector_matches(selector: str, country: str, tiers: Iterable[str] = ()) -> bool:
    """Tell whether a jurisdiction selector ("CN", "tier:x") covers a country."""
    if selector.startswith("tier:"):
        return selector[len("tier:"):] in set(tiers)
    return selector == (country or "").upper()



def validate_variables(
    option, raw: Mapping[str, object]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Coerce raw form or JSON values for an option; return (clean values, errors)."""
    declared = {v.name: v for v in option.variables}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {
        str(name): f"Unknown variable '{name}'" for name in raw if name not in declared
    }
    for name, variable in declared.items():
        value = raw.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            if variable.required:
                errors[name] = f"{variable.label} is required"
            else:
                clean[name] = variable.default
            continue
        try:
            clean[name] = _coerce(variable, value)
        except _Invalid as exc:
            errors[name] = str(exc)
    return clean, errors


def _coerce(variable: Variable, value: object) -> Any:
    coerce = _COERCERS[variable.type]
    return coerce(variable, value)


def _bounds_message(variable: Variable, noun: str) -> str:
    low, high = variable.min, variable.max
    if low is not None and high is not None:
        return f"{variable.label} must be {noun} between {low} and {high}"
    if low is not None:
        return f"{variable.label} must be {noun} of at least {low}"
    if high is not None:
        return f"{variable.label} must be {noun} of at most {high}"
    return f"{variable.label} must be {noun}"


def _check_bounds(variable: Variable, number: int | Decimal, noun: str) -> None:
    if (variable.min is not None and number < variable.min) or (
        variable.max is not None and number > variable.max
    ):
        raise _Invalid(_bounds_message(variable, noun))


def _coerce_integer(variable: Variable, value: object) -> int:
    noun = "a whole number"
    if isinstance(value, bool):
        raise _Invalid(_bounds_message(variable, noun))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal) and _is_whole(Decimal(str(value))):
        number = int(value)
    elif isinstance(value, str) and _INT_RE.fullmatch(value) and len(value) <= 18:
        number = int(value)
    else:
        raise _Invalid(_bounds_message(variable, noun))
    _check_bounds(variable, number, noun)
    return number


def _is_whole(number: Decimal) -> bool:
    return number.is_finite() and abs(number) < 10**18 and number == number.to_integral_value()


def _coerce_decimal(variable: Variable, value: object) -> Decimal:
    noun = "a number"
    if isinstance(value, bool):
        raise _Invalid(_bounds_message(variable, noun))
    try:
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(str(value))
        elif isinstance(value, str) and _DECIMAL_RE.fullmatch(value) and len(value) <= 24:
            number = Decimal(value)
        else:
            raise _Invalid(_bounds_message(variable, noun))
    except InvalidOperation:
        raise _Invalid(_bounds_message(variable, noun)) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise _Invalid(_bounds_message(variable, noun))
    _check_bounds(variable, number, noun)
    return number


def _coerce_boolean(variable: Variable, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _Invalid(f"{variable.label} must be yes or no")


def _coerce_date(variable: Variable, value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Invalid(f"{variable.label} must be a date in the form YYYY-MM-DD")


def _coerce_country(variable: Variable, value: object) -> str:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        code = value.upper()
        if pycountry.countries.get(alpha_2=code) is not None:
            return code
    raise _Invalid(f"{variable.label} must be a two-letter ISO 3166-1 country code, such as BE")


def _coerce_eu_eea_country(variable: Variable, value: object) -> str:
    code = _coerce_country(variable, value)
    if not is_eu_eea(code):
        raise _Invalid(f"{variable.label} must be an EU or EEA State, such as BE")
    return code


def _coerce_choice(variable: Variable, value: object) -> str:
    if isinstance(value, str) and value in variable.choices:
        return value
    raise _Invalid(f"{variable.label} must be one of: {', '.join(variable.choices)}")


def _coerce_text(variable: Variable, value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{variable.label} must be text")
    multiline = variable.type == "text"
    if multiline:
        value = value.replace("\r\n", "\n")
    for char in value:
        if char in _BIDI_CONTROLS or (
            (ord(char) < 32 or 127 <= ord(char) < 160) and not (multiline and char in "\n\t")
        ):
            if char == "\n":
                raise _Invalid(f"{variable.label} must be a single line")
            raise _Invalid(f"{variable.label} must not contain control characters")
    limit = variable.max_length or _DEFAULT_MAX_LENGTH[variable.type]
    if len(value) > limit:
        raise _Invalid(f"{variable.label} must be at most {limit} characters")
    if variable.type == "city" and not any(char.isalpha() for char in value):
        raise _Invalid(f"{variable.label} must be the name of a city")
    return value


_COERCERS = {
    "string": _coerce_text, "text": _coerce_text, "city": _coerce_text,
    "integer": _coerce_integer, "decimal": _coerce_decimal, "boolean": _coerce_boolean,
    "date": _coerce_date, "country": _coerce_country, "eu_eea_country": _coerce_eu_eea_country,
    "choice": _coerce_choice,
}


def variable_from_dict(data: Mapping[str, Any]) -> Variable:
    """Rebuild a Variable from its `as_dict()` form (e.g. a stored library version)."""

    def number(value):
        if value is None:
            return None
        return int(value) if data["type"] == "integer" else Decimal(str(value))

    return Variable(
        name=data["name"], label=data["label"], type=data["type"], default=data["default"],
        required=bool(data["required"]), min=number(data.get("min")),
        max=number(data.get("max")), max_length=data.get("max_length"),
        choices=tuple(data.get("choices") or ()), help=data.get("help") or "",
    )


def to_json(value: Any) -> Any:
    """Turn a clean value into JSON (dates as ISO strings, decimals as strings)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
