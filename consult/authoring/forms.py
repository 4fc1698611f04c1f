"""The authoring forms as plain data: built from a stored definition or from a submitted form,
shown again as typed when something is wrong, and turned into specs with field errors."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from consult.authoring.service import STANDARD_TYPES, EditError
from consult.core.formatting import LOCAL_TIME, local_stamp
from consult.core.i18n import N_
from consult.core.numbers import as_whole_number
from consult.responses.validation import MAX_TEXT_LENGTH
from consult.surveys.models import (
    CHOICE_TYPES,
    LIST_TYPES,
    Access,
    Audience,
    ConditionOp,
    IdentityMode,
    QuestionType,
)
from consult.surveys.schema import ChoiceSpec, Condition, ConditionSpec, QuestionSpec, SurveySpec, is_compound
from consult.surveys.wording import fitting_op
from consult.surveys.xlsform import read_relevant, relevant_expression

CODE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_CHOICE_ROWS = 300
BLANK_CHOICE_ROWS = 3
MAX_TEXT = 5000
MAX_TITLE = 200  # as the form's maxlength: a title is shown in lists and on phones
EDITABLE_CHOICE_TYPES = CHOICE_TYPES - STANDARD_TYPES
LANGS = ("sv", "en")

FormData = Mapping[str, Any]


# Control characters other than line breaks and tabs: nobody types them, PostgreSQL refuses NUL in
# text, and a spreadsheet cannot hold them, so a survey with one could not be exported as an XLSForm.
_UNTYPEABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def form_text(form: FormData, name: str, limit: int = MAX_TEXT) -> str:
    value = form.get(name)
    return _UNTYPEABLE.sub("", value).strip()[:limit] if isinstance(value, str) else ""


def _localized(sv: str, en: str) -> dict[str, str] | None:
    text = {lang: value for lang, value in (("sv", sv), ("en", en)) if value}
    return text or None


def _fmt_number(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


class _Numbers:
    """Parses optional numbers into a list of field errors."""

    def __init__(self, errors: list[EditError]) -> None:
        self.errors = errors

    def number(self, name: str, raw: str) -> float | None:
        if not raw:
            return None
        try:
            value = float(raw.replace(",", ".").replace("\u2212", "-"))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.errors.append(EditError(name, N_("Write a number, for example 10.")))
            return None
        return value

    def whole(self, name: str, raw: str, minimum: int = 1) -> int | None:
        value = self.number(name, raw)
        if value is None:
            return None
        if not value.is_integer() or value < minimum:
            self.errors.append(EditError(name, N_("Write a whole number of at least %(min)s."), {"min": minimum}))
            return None
        return int(value)


# --- Choices ------------------------------------------------------------------------------


@dataclass
class ChoiceRow:
    code: str = ""
    sv: str = ""
    en: str = ""
    priority: str = ""
    remove: bool = False
    name: str | None = None  # an imported XLSForm name, kept while the code stays

    @property
    def blank(self) -> bool:
        return not (self.code or self.sv or self.en)


# --- Questions ----------------------------------------------------------------------------


@dataclass
class QuestionForm:
    code: str = ""
    type: str = QuestionType.single_choice.value
    page: str = "1"
    required: bool = False
    text_sv: str = ""
    text_en: str = ""
    help_sv: str = ""
    help_en: str = ""
    max_choices: str = ""
    min_value: str = ""
    max_value: str = ""
    whole_numbers: bool = False
    low_sv: str = ""
    low_en: str = ""
    high_sv: str = ""
    high_en: str = ""
    allow_dont_know: bool = False
    max_length: str = ""
    condition_op: str = ConditionOp.equals.value
    condition_target: str = ""  # "QUESTION:CHOICE_CODE", or empty for no condition
    # A combined condition (and / or / not) in XLSForm `relevant` syntax; when given it wins over
    # condition_op / condition_target, which only express a single test.
    condition_expression: str = ""
    priority: str = ""
    choices: list[ChoiceRow] = field(default_factory=list)
    # Carried over untouched: written by XLSForm imports, not edited here.
    required_message: dict[str, str] | None = None
    constraint_message: dict[str, str] | None = None

    @property
    def question_type(self) -> QuestionType | None:
        try:
            return QuestionType(self.type)
        except ValueError:
            return None

    @property
    def has_editable_choices(self) -> bool:
        return self.question_type in EDITABLE_CHOICE_TYPES

    @property
    def has_combined_condition(self) -> bool:
        return bool(self.condition_expression)

    @classmethod
    def from_spec(cls, question: QuestionSpec, page: int, spec: SurveySpec | None = None) -> QuestionForm:
        """`spec` names choices in a combined condition as XLSForm does; without it, by code."""
        text = question.text
        help_text = question.help or {}
        low, high = question.low_label or {}, question.high_label or {}
        combined = question.condition if is_compound(question.condition) else None
        condition = question.condition if isinstance(question.condition, ConditionSpec) else None
        return cls(
            code=question.code,
            type=question.type.value,
            page=str(page),
            required=question.required,
            text_sv=text.get("sv", ""),
            text_en=text.get("en", ""),
            help_sv=help_text.get("sv", ""),
            help_en=help_text.get("en", ""),
            max_choices=_fmt_number(question.max_choices),
            min_value=_fmt_number(question.min_value),
            max_value=_fmt_number(question.max_value),
            whole_numbers=question.whole_numbers,
            low_sv=low.get("sv", ""),
            low_en=low.get("en", ""),
            high_sv=high.get("sv", ""),
            high_en=high.get("en", ""),
            allow_dont_know=question.allow_dont_know,
            max_length=_fmt_number(question.max_length),
            condition_op=condition.op.value if condition else ConditionOp.equals.value,
            condition_target=f"{condition.question}:{condition.value}" if condition else "",
            condition_expression=relevant_expression(spec, combined) if combined else "",
            priority=question.priority_key or "",
            choices=[
                ChoiceRow(str(c.code), c.label.get("sv", ""), c.label.get("en", ""), c.priority_key or "", name=c.name)
                for c in question.choices
            ],
            required_message=question.required_message,
            constraint_message=question.constraint_message,
        )

    @classmethod
    def from_form(cls, form: FormData, old: QuestionSpec | None = None) -> QuestionForm:
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name in ("choices", "required_message", "constraint_message"):
                continue
            if item.type == "bool":
                values[item.name] = bool(form.get(item.name))
            else:
                values[item.name] = form_text(form, item.name)
        result = cls(**values)
        if old is not None:
            result.required_message, result.constraint_message = old.required_message, old.constraint_message
        names = {c.code: c.name for c in old.choices} if old else {}
        try:
            count = min(int(form_text(form, "choice_count", 5) or 0), MAX_CHOICE_ROWS)
        except ValueError:
            count = 0
        for index in range(count):
            prefix = f"choice-{index}-"
            row = ChoiceRow(
                code=form_text(form, prefix + "code", 20),
                sv=form_text(form, prefix + "sv", 500),
                en=form_text(form, prefix + "en", 500),
                priority=form_text(form, prefix + "priority", 64),
                remove=bool(form.get(prefix + "remove")),
            )
            code = as_whole_number(row.code)
            row.name = names.get(code) if code is not None else None
            result.choices.append(row)
        return result

    def move_choice(self, index: int, direction: int) -> int | None:
        """Move a row among the non-blank rows; returns its new index."""
        rows = [row for row in self.choices if not row.blank]
        other = index + direction
        if not (0 <= index < len(rows) and 0 <= other < len(rows)):
            return None
        rows[index], rows[other] = rows[other], rows[index]
        self.choices = rows + [row for row in self.choices if row.blank]
        return other

    def to_spec(
        self,
        *,
        standard_choices: Callable[[QuestionType], tuple[ChoiceSpec, ...]],
        questions: Mapping[str, QuestionSpec] | None = None,
    ) -> tuple[QuestionSpec | None, list[EditError]]:
        """`questions`: the survey's questions by code, which a combined condition may name."""
        errors: list[EditError] = []
        qtype = self.question_type
        if not CODE_PATTERN.match(self.code):
            message = N_(
                "Give the question a code of letters a–z, digits and _ (starting with a letter, at most 64), "
                "for example kommun or q1."
            )
            errors.append(EditError("code", message))
        if qtype is None:
            errors.append(EditError("type", N_("Choose a question type.")))
        if not self.text_sv:
            errors.append(EditError("text_sv", N_("Write the question in Swedish.")))
        numbers = _Numbers(errors)
        spec_fields: dict[str, Any] = {}
        if qtype in LIST_TYPES:
            spec_fields["max_choices"] = numbers.whole("max_choices", self.max_choices)
        if qtype in (QuestionType.scale, QuestionType.number):
            minimum = numbers.number("min_value", self.min_value)
            maximum = numbers.number("max_value", self.max_value)
            if minimum is not None and maximum is not None and maximum <= minimum:
                errors.append(EditError("max_value", N_("The highest value must be above the lowest.")))
            if qtype == QuestionType.scale:
                minimum, maximum = self._scale_bounds(minimum, maximum, errors)
            spec_fields.update(min_value=minimum, max_value=maximum)
        if qtype == QuestionType.number:
            spec_fields["whole_numbers"] = self.whole_numbers
        if qtype == QuestionType.scale:
            spec_fields.update(
                low_label=_localized(self.low_sv, self.low_en),
                high_label=_localized(self.high_sv, self.high_en),
                allow_dont_know=self.allow_dont_know,
            )
        if qtype in (QuestionType.short_text, QuestionType.long_text):
            max_length = numbers.whole("max_length", self.max_length)
            if max_length is not None and max_length > MAX_TEXT_LENGTH:
                errors.append(EditError("max_length", N_("An answer can have at most 5000 characters.")))
                max_length = None
            spec_fields["max_length"] = max_length
        choices: tuple[ChoiceSpec, ...] = ()
        if qtype in STANDARD_TYPES:
            choices = standard_choices(qtype)
            if not choices:
                errors.append(EditError("type", N_("There are no municipalities in the database to choose from.")))
        elif qtype in EDITABLE_CHOICE_TYPES:
            choices = self._choices(errors)
            max_choices = spec_fields.get("max_choices")
            if max_choices and choices and max_choices > len(choices):
                errors.append(EditError("max_choices", N_("There are only %(n)s choices."), {"n": len(choices)}))
        condition = self._condition(errors, questions or {})
        if errors or qtype is None:
            return None, errors
        try:
            spec = QuestionSpec(
                code=self.code,
                type=qtype,
                required=self.required,
                text=_localized(self.text_sv, self.text_en) or {},
                help=_localized(self.help_sv, self.help_en),
                choices=choices,
                priority_key=self.priority or None,
                condition=condition,
                required_message=self.required_message,
                constraint_message=self.constraint_message,
                **spec_fields,
            )
        except ValidationError as exc:  # a rule of the schema we did not foresee here
            detail = "; ".join(str(e.get("msg", "")) for e in exc.errors())[:300]
            return None, [EditError("code", N_("The question is not valid: %(error)s"), {"error": detail})]
        return spec, []

    def _scale_bounds(
        self, minimum: float | None, maximum: float | None, errors: list[EditError]
    ) -> tuple[float | None, float | None]:
        low = 1 if minimum is None else minimum
        high = 5 if maximum is None else maximum
        if not float(low).is_integer() or not float(high).is_integer():
            errors.append(EditError("min_value", N_("A scale goes in whole steps: use whole numbers.")))
        elif high - low > 10:
            errors.append(EditError("max_value", N_("A scale can have at most 11 steps.")))
        # The default 1–5 is stored as no bounds, as the rest of the system expects.
        if (low, high) == (1, 5):
            return None, None
        return low, high

    def _choices(self, errors: list[EditError]) -> tuple[ChoiceSpec, ...]:
        rows = [(index, row) for index, row in enumerate(self.choices) if not row.blank and not row.remove]
        if not rows:
            errors.append(EditError("choices", N_("Add at least one choice.")))
            return ()
        taken: dict[int, int] = {}
        parsed: list[tuple[int, ChoiceRow, int | None]] = []
        for index, row in rows:
            code = None
            if row.code:
                code = as_whole_number(row.code)
                if code is not None:
                    if code in taken:
                        errors.append(
                            EditError(
                                f"choice-{index}-code",
                                N_("Another choice already has the code %(code)s."),
                                {"code": code},
                            )
                        )
                    taken.setdefault(code, index)
                else:
                    errors.append(EditError(f"choice-{index}-code", N_("A code is a whole number, 0 or more.")))
            if not row.sv:
                errors.append(EditError(f"choice-{index}-sv", N_("Write the choice in Swedish.")))
            parsed.append((index, row, code))
        # Rows without a code get the next free numbers, in order, so codes never change later.
        next_code = max(taken, default=0) + 1
        choices = []
        for _index, row, code in parsed:
            if code is None:
                code = next_code
                next_code += 1
            label = _localized(row.sv, row.en) or {}
            name = row.name if row.code and as_whole_number(row.code) == code else None
            choices.append(ChoiceSpec(code=code, label=label, priority_key=row.priority or None, name=name))
        return tuple(choices)

    def _condition(self, errors: list[EditError], questions: Mapping[str, QuestionSpec]) -> Condition | None:
        if self.condition_expression:
            # Names resolve against every question; check_pages then says which come too late.
            condition, problems = read_relevant(self.condition_expression, questions)
            for problem in problems:
                params = {**problem.params, "value": self.condition_expression}
                errors.append(EditError("condition_expression", problem.template, params))
            return condition
        if not self.condition_target:
            return None
        question, _, value = self.condition_target.rpartition(":")
        try:
            op = ConditionOp(self.condition_op)
        except ValueError:
            errors.append(EditError("condition_op", N_("Choose how the answer is compared.")))
            return None
        code = as_whole_number(value)
        if not question or code is None:
            errors.append(EditError("condition_target", N_("Choose an answer to an earlier question.")))
            return None
        return ConditionSpec(question=question, op=fitting_op(op, questions.get(question)), value=code)


# --- Survey settings ----------------------------------------------------------------------


def local_input(moment: datetime | None) -> str:
    """A stored UTC time as the value of a datetime-local field, in Swedish time."""
    return local_stamp(moment, "%Y-%m-%dT%H:%M")


class NonexistentTime(ValueError):
    """A wall-clock time the spring change to summer time skips (02:00–02:59 on the last Sunday of March)."""


def parse_local(raw: str) -> datetime | None:
    """A datetime-local value (or a date, or "date time") in Swedish time, as UTC."""
    raw = raw.strip().replace(" ", "T")
    if not raw:
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            typed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        moment = typed.replace(tzinfo=LOCAL_TIME).astimezone(UTC)
        if moment.astimezone(LOCAL_TIME).replace(tzinfo=None) != typed:
            raise NonexistentTime(raw)  # stored as an hour later without a word, it would surprise
        return moment
    raise ValueError(raw)


# The cycle select's value for "No review cycle"; an empty value means none was chosen yet.
NO_CYCLE = "none"


@dataclass
class SettingsForm:
    slug: str = ""
    title_sv: str = ""
    title_en: str = ""
    intro_sv: str = ""
    intro_en: str = ""
    privacy_sv: str = ""
    privacy_en: str = ""
    audience: str = Audience.residents.value
    identity_mode: str = IdentityMode.anonymous.value
    access: str = Access.open.value
    retention_days: str = ""
    minutes_needed: str = ""
    opens_at: str = ""
    closes_at: str = ""
    cycle: str = ""

    @classmethod
    def from_spec(cls, spec: SurveySpec, cycle_id: int | None) -> SettingsForm:
        intro, privacy = spec.intro or {}, spec.privacy_notice or {}
        return cls(
            slug=spec.slug,
            title_sv=spec.title.get("sv", ""),
            title_en=spec.title.get("en", ""),
            intro_sv=intro.get("sv", ""),
            intro_en=intro.get("en", ""),
            privacy_sv=privacy.get("sv", ""),
            privacy_en=privacy.get("en", ""),
            audience=spec.audience.value,
            identity_mode=spec.identity_mode.value,
            access=spec.access.value,
            retention_days=_fmt_number(spec.retention_days),
            minutes_needed=_fmt_number(spec.minutes_needed),
            opens_at=local_input(spec.opens_at),
            closes_at=local_input(spec.closes_at),
            cycle=str(cycle_id) if cycle_id else NO_CYCLE,
        )

    @classmethod
    def from_form(cls, form: FormData) -> SettingsForm:
        # A field left out of the post (not an empty one) keeps its default.
        defaults = cls()
        return cls(**{item.name: form_text(form, item.name) or getattr(defaults, item.name) for item in fields(cls)})

    def parse(
        self, cycle_ids: set[int], *, require_cycle: bool = False
    ) -> tuple[dict[str, Any], int | None, list[EditError]]:
        """The SurveySpec fields these settings give, the cycle id, and the errors. With
        require_cycle, the cycle must be chosen explicitly (a cycle, or NO_CYCLE): a new survey
        must not fall into another consultation's cycle by default."""
        errors: list[EditError] = []
        if not self.title_sv:
            errors.append(EditError("title_sv", N_("Write a title in Swedish.")))
        for name in ("title_sv", "title_en"):
            if len(getattr(self, name)) > MAX_TITLE:
                message = N_("Shorten the title to at most %(max)s characters.")
                errors.append(EditError(name, message, {"max": MAX_TITLE}))
        if self.audience not in set(Audience):
            errors.append(EditError("audience", N_("Choose who the survey is for.")))
        if self.identity_mode not in set(IdentityMode):
            errors.append(EditError("identity_mode", N_("Choose whether respondents are anonymous.")))
        if self.access not in set(Access):
            errors.append(EditError("access", N_("Choose who may answer.")))
        numbers = _Numbers(errors)
        retention = numbers.whole("retention_days", self.retention_days)
        minutes = numbers.whole("minutes_needed", self.minutes_needed)
        times: dict[str, datetime | None] = {}
        for name in ("opens_at", "closes_at"):
            try:
                times[name] = parse_local(getattr(self, name))
            except NonexistentTime:
                message = N_("That time does not exist in Sweden: the clocks move forward an hour that night. "
                             "Choose another time.")
                errors.append(EditError(name, message))
                times[name] = None
            except ValueError:
                errors.append(EditError(name, N_("Write a date and time, for example 2026-03-01 08:00.")))
                times[name] = None
        if times["opens_at"] and times["closes_at"] and times["closes_at"] <= times["opens_at"]:
            errors.append(EditError("closes_at", N_("The survey must close after it opens.")))
        cycle_id = as_whole_number(self.cycle)
        cycle_id = cycle_id if cycle_id in cycle_ids else None
        if not self.cycle and require_cycle:
            message = N_("Choose the review cycle the survey belongs to, or “No review cycle”.")
            errors.append(EditError("cycle", message))
        elif self.cycle and self.cycle != NO_CYCLE and cycle_id is None:
            errors.append(EditError("cycle", N_("Choose one of the review cycles.")))
        updates = {
            "title": _localized(self.title_sv, self.title_en) or {},
            "intro": _localized(self.intro_sv, self.intro_en),
            "privacy_notice": _localized(self.privacy_sv, self.privacy_en),
            "audience": self.audience,
            "identity_mode": self.identity_mode,
            "access": self.access,
            "retention_days": retention,
            "minutes_needed": minutes,
            **times,
        }
        return updates, cycle_id, errors

