"""livekit-plugins-intake without a room: the engine on every item type, follow-ups,
validation and asking again, the answer parsers (en, es), every shipped red-flag rule on
positive and negative phrasings, and the FHIR documents validated by fhir.resources."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given
from hypothesis import strategies as st
from livekit.plugins import intake
from pydantic import ValidationError

TODAY = date(2026, 12, 2)
PREVISIT = intake.example_questionnaire()


def item(item_id: str) -> intake.Item:
    return PREVISIT.item(item_id)


def engine(language: str = "en") -> intake.IntakeEngine:
    return intake.IntakeEngine(PREVISIT, language, today=TODAY)


# --- parsers -------------------------------------------------------------------------------

PARSED: list[tuple[str, str, str, Any]] = [
    ("pain", "en", "yes I am", True),
    ("pain", "en", "no I'm not", False),
    ("pain", "en", "um, I don't think so", False),
    ("pain", "en", "I do not", False),
    ("pain", "en", "no wait, yes", True),
    ("pain", "en", "true", True),
    ("pain", "es", "Sí, un poco", True),
    ("pain", "es", "No, para nada", False),
    ("pain_level", "en", "about a seven", 7.0),
    ("pain_level", "en", "seven out of ten", 7.0),
    ("pain_level", "en", "five, sorry, I mean six", 6.0),
    ("pain_level", "es", "siete", 7.0),
    ("weight", "en", "one hundred and sixty two", 162.0),
    ("weight", "en", "seventy two point five", 72.5),
    ("weight", "es", "setenta y dos kilos", 72.0),
    ("weight", "es", "72,5", 72.5),
    ("birth_date", "en", "March third nineteen eighty", "1980-03-03"),
    ("birth_date", "en", "the twelfth of May two thousand one", "2001-05-12"),
    ("birth_date", "en", "1980-03-03", "1980-03-03"),
    ("birth_date", "en", "03/04/1975", "1975-03-04"),
    ("birth_date", "es", "el doce de mayo de dos mil uno", "2001-05-12"),
    ("birth_date", "es", "tres de marzo de mil novecientos ochenta", "1980-03-03"),
    ("smoking", "en", "I used to smoke, so former smoker", "former"),
    ("smoking", "en", "never", "never"),
    ("smoking", "en", "the second one", "former"),
    ("smoking", "en", "number three", "current"),
    ("smoking", "es", "fumo actualmente", "current"),
    ("smoking", "es", "la primera", "never"),
    ("symptoms", "en", "a cough and a headache", ["cough", "headache"]),
    ("symptoms", "en", "none of those", []),
    ("symptoms", "es", "fiebre y tos", ["fever", "cough"]),
    ("symptoms", "es", "ninguno", []),
    ("full_name", "en", "um, my name is Maria Lopez", "Maria Lopez"),
    ("full_name", "es", "Me llamo José García", "José García"),
]


@pytest.mark.parametrize(("item_id", "language", "said", "value"), PARSED)
def test_answers_are_parsed_as_people_say_them(
    item_id: str, language: str, said: str, value: Any
) -> None:
    assert intake.parse(said, language, item(item_id), TODAY) == intake.Parsed(value)


REFUSED: list[tuple[str, str, str, str]] = [
    ("pain", "en", "I'm not sure", "yes_no"),
    ("pain", "es", "no sé", "yes_no"),
    ("pain", "en", "banana", "yes_no"),
    ("pain_level", "en", "eleven", "range"),
    ("pain_level", "en", "it hurts", "number"),
    ("birth_date", "en", "May 5th 2030", "future"),
    ("birth_date", "en", "a long time ago", "date"),
    ("smoking", "en", "sometimes", "choice"),
    ("smoking", "en", "never, well, current smoker", "choice"),
    ("symptoms", "en", "my knee", "choice"),
    ("full_name", "en", "uh", "empty"),
]


@pytest.mark.parametrize(("item_id", "language", "said", "problem"), REFUSED)
def test_answers_that_do_not_validate_say_what_is_needed(
    item_id: str, language: str, said: str, problem: str
) -> None:
    assert intake.parse(said, language, item(item_id), TODAY) == intake.Parsed(problem=problem)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10))
def test_every_pain_level_said_in_digits_is_read_back(level: int) -> None:
    assert intake.parse(f"it is {level}", "en", item("pain_level"), TODAY).value == level


# --- red flags ---------------------------------------------------------------------------

FIRES: dict[str, list[str]] = {
    "chest_pain": [
        "I have crushing chest pain",
        "my chest hurts",
        "there is a lot of pressure in my chest",
        "no fever, but my chest really hurts",
        "Me duele el pecho",
        "siento opresión en el pecho",
    ],
    "trouble_breathing": [
        "I can't breathe",
        "I'm a little short of breath",
        "I have trouble breathing since this morning",
        "no puedo respirar",
        "me falta el aire",
    ],
    "stroke_signs": [
        "my face is drooping on one side",
        "I think I'm having a stroke",
        "I can't move my arm",
        "creo que tengo la boca torcida",
    ],
    "severe_bleeding": ["it won't stop bleeding", "I'm bleeding a lot", "estoy sangrando mucho"],
    "fainting": ["I passed out yesterday", "I fainted twice", "me desmayé en el baño"],
    "anaphylaxis": ["my throat is closing up", "my lips are swelling", "se me cierra la garganta"],
    "self_harm": [
        "I want to kill myself",
        "I don't want to live anymore",
        "I've been thinking about suicide",
        "quiero quitarme la vida",
    ],
}
QUIET = [
    "no chest pain",
    "I don't have any chest pain",
    "I do not have chest pain",
    "I can breathe fine",
    "I have no trouble breathing",
    "No, I never fainted",
    "I have a headache and a cough",
    "No tengo dolor de pecho",
    "sin dolor en el pecho",
    "nunca me he desmayado",
    "my knee hurts when I walk",
    "I don't want to die",
]


def screen() -> intake.RedFlagScreen:
    return intake.RedFlagScreen(PREVISIT.rules())


@pytest.mark.parametrize(("rule", "said"), [(r, s) for r, said in FIRES.items() for s in said])
def test_every_shipped_rule_fires_on_its_phrasings(rule: str, said: str) -> None:
    assert screen().words(said) == intake.RedFlag(rule, "words")


@pytest.mark.parametrize("said", QUIET)
def test_negated_and_harmless_words_do_not_fire(said: str) -> None:
    assert screen().words(said) is None


def test_every_shipped_rule_is_tested_in_both_languages() -> None:
    shipped = {r.id: r for r in intake.default_red_flags()}
    assert set(FIRES) == set(shipped)
    for rule in shipped.values():
        assert set(rule.phrases) == {"en", "es"}, rule.id


def test_an_answer_condition_fires_its_rule() -> None:
    e = engine()
    for said in ["yes", "Ana Diaz", "1990-01-02", "a rash", "yes"]:
        assert e.hear(said).accepted, said
    reply = e.hear("nine")
    assert reply.red_flag == intake.RedFlag("severe_pain", "answer:pain_level")
    assert reply.ends and reply.say == e.safety_message
    assert e.record().status == intake.Status.ESCALATED


# --- the engine --------------------------------------------------------------------------

CALLER = [
    ("yes that is fine", "consent"),
    ("um my name is Maria Lopez", "full_name"),
    ("March third nineteen eighty", "birth_date"),
    ("a check up for my knee", "reason"),
    ("yes", "pain"),
    ("banana", "pain_level"),  # asked again
    ("about a seven", "pain_level"),
    ("former smoker", "smoking"),
    ("a cough", "symptoms"),
    ("no", "allergies"),
    ("seventy two kilos", "weight"),
]


def answered(e: intake.IntakeEngine) -> None:
    for said, _ in CALLER:
        e.hear(said)


def test_the_engine_asks_in_order_and_asks_again_saying_what_it_needs() -> None:
    e = engine()
    assert e.step == "consent" and "automated assistant" in e.prompt()
    for said, expected in CALLER:
        current = e.current()
        assert (current.id if current else "consent") == expected
        reply = e.hear(said)
        if said == "banana":
            assert not reply.accepted and reply.say.startswith("Please say a number. On a scale")
    assert str(e.step) == "readback"  # str: mypy keeps the step narrowed from the start
    assert "Pain level: 7" in e.prompt() and "Weight: 72 kg" in e.prompt()
    assert "allergy_list" not in e.missing() and e.missing() == []


def test_a_follow_up_applies_only_for_its_answer_and_goes_when_that_changes() -> None:
    e = engine()
    answered(e)
    assert "pain_level" in e.answers and "allergy_list" not in e.answers
    assert e.hear("no").say == "Which answer should I change?"
    assert e.hear("the pain today one").say == "Are you in pain today?"
    e.hear("no")
    assert "pain_level" not in e.answers and e.step == "readback"
    reply = e.hear("yes, that's right")
    assert reply.ends and e.record().status == intake.Status.COMPLETE


def test_a_correction_of_one_answer_keeps_the_others() -> None:
    e = engine()
    answered(e)
    e.hear("no, one is wrong")
    assert e.hear("the weight").say == "About how much do you weigh, in kilograms?"
    e.hear("eighty")
    assert e.answers["weight"] == 80.0 and e.answers["full_name"] == "Maria Lopez"


def test_refusing_consent_ends_with_nothing_recorded() -> None:
    e = engine()
    reply = e.hear("no thank you")
    assert reply.ends and "Nothing has been recorded" in reply.say
    assert e.consent is False and e.answers == {}


def test_the_model_path_validates_the_same_way() -> None:
    e = engine()
    assert not e.answer("full_name", "Maria").accepted  # consent first
    assert e.answer(intake.CONSENT, "yes").accepted
    assert not e.answer("pain_level", "7").accepted  # its condition does not hold yet
    assert not e.answer("no_such_item", "7").accepted
    assert e.answer("birth_date", "1980-03-03").accepted
    assert not e.answer("weight", "-3").accepted
    assert e.answer(intake.CONFIRMED, "yes").say == "What is your full name?"  # not done yet


def test_the_model_may_correct_an_answer_without_naming_it_first() -> None:
    e = engine()
    answered(e)
    assert e.answer(intake.CONFIRMED, "no").say == "Which answer should I change?"
    reply = e.answer("smoking", "never")
    assert reply.accepted and reply.say.startswith("Thank you. Here is what I have.")
    assert e.answer(intake.CONFIRMED, "yes").ends and e.answers["smoking"] == "never"


def test_a_partial_intake_keeps_what_was_answered() -> None:
    e = engine()
    for said, _ in CALLER[:4]:
        e.hear(said)
    e.end()
    record = e.record()
    assert record.status == intake.Status.PARTIAL
    assert set(record.answers) == {"full_name", "birth_date", "reason"}
    assert "pain" in record.missing


def test_spanish_intake_runs_in_spanish() -> None:
    e = engine("es")
    assert "asistente automático" in e.prompt()
    for said in ["sí", "José García", "tres de marzo de mil novecientos ochenta"]:
        assert e.hear(said).accepted, said
    assert e.answers["birth_date"] == "1980-03-03" and e.prompt().startswith("En pocas")


# --- the questionnaire as data -------------------------------------------------------------


def test_a_questionnaire_that_contradicts_itself_is_refused_naming_the_item() -> None:
    data = PREVISIT.model_dump()
    data["items"][4]["enable_when"]["item"] = "weight"  # follows an item asked after it
    with pytest.raises(ValidationError, match="pain_level"):
        intake.Questionnaire.model_validate(data)
    data = PREVISIT.model_dump()
    del data["items"][0]["text"]["es"]
    with pytest.raises(ValidationError, match="full_name"):
        intake.Questionnaire.model_validate(data)


def test_a_clinic_rule_replaces_the_shipped_one_of_the_same_id() -> None:
    data = PREVISIT.model_dump()
    data["red_flags"] = [{"id": "chest_pain", "phrases": {"en": ["heart attack"]}}]
    own = intake.RedFlagScreen(intake.Questionnaire.model_validate(data).rules())
    assert own.words("I think it is a heart attack") == intake.RedFlag("chest_pain", "words")
    assert own.words("my chest hurts") is None


# --- FHIR --------------------------------------------------------------------------------


def test_the_record_is_a_valid_fhir_questionnaire_response() -> None:
    e = engine()
    answered(e)
    e.hear("yes")
    document = intake.fhir.response(PREVISIT, e.record()).model_dump_json()
    again = QuestionnaireResponse.model_validate_json(document).model_dump(mode="json")
    assert again["status"] == "completed"
    assert again["questionnaire"] == "urn:intake:questionnaire:previsit|1"
    answers = {i["linkId"]: i["answer"] for i in again["item"]}
    assert answers["pain"] == [{"valueBoolean": True}]
    assert answers["weight"] == [{"valueQuantity": {"value": 72.0, "unit": "kg"}}]
    assert answers["birth_date"] == [{"valueDate": "1980-03-03"}]
    assert answers["smoking"][0]["valueCoding"]["code"] == "former"
    assert [a["valueCoding"]["code"] for a in answers["symptoms"]] == ["cough"]


def test_the_questionnaire_is_valid_fhir_with_its_follow_ups() -> None:
    document = intake.fhir.questionnaire(PREVISIT, "es").model_dump_json()
    again = FhirQuestionnaire.model_validate_json(document).model_dump(mode="json")
    items = {i["linkId"]: i for i in again["item"]}
    assert items["pain_level"]["enableWhen"] == [
        {"question": "pain", "operator": "=", "answerBoolean": True}
    ]
    assert items["symptoms"]["repeats"] is True and len(items["smoking"]["answerOption"]) == 3
    assert items["full_name"]["text"] == "¿Cuál es su nombre completo?"


# --- keys on a phone (DTMF) ----------------------------------------------------------------


def keyed(language: str = "en") -> intake.IntakeEngine:
    return intake.IntakeEngine(PREVISIT, language, today=TODAY, keypad=True)


def press_all(e: intake.IntakeEngine, keys: str) -> intake.Reply | None:
    reply = None
    for key in keys:
        reply = e.press(key)
    return reply


@pytest.mark.parametrize(
    ("language", "keys", "answer"),
    [
        ("en", "03031980#", "1980-03-03"),
        ("es", "03121980#", "1980-12-03"),
    ],
)
def test_a_date_is_typed_in_the_order_the_language_writes_it(
    language: str, keys: str, answer: str
) -> None:
    e = keyed(language)
    e.press("1")
    e.answer("full_name", "Ana Ruiz")
    reply = press_all(e, keys)
    assert reply is not None and reply.accepted
    assert e.answers["birth_date"] == answer


def test_every_question_on_a_keypad_says_how_to_type_the_answer() -> None:
    e = keyed()
    assert e.prompt().endswith("Or press 1 for yes, 2 for no.")
    assert e.press("1") is not None  # consent: one key, no pound
    assert "cannot be typed" in e.prompt()  # a name is said
    said = e.press("5")
    assert said is not None and not said.accepted and "cannot be typed" in said.say
    e.answer("full_name", "John Smith")
    assert "eight digits" in e.prompt()
    assert press_all(e, "0303") is None  # still typing
    assert e.press("*") is not None and e.press("#") is not None  # cleared, asked again
    press_all(e, "03031980#")
    e.answer("reason", "a cough")
    e.press("1")  # pain: yes
    assert press_all(e, "7") is None
    reply = e.press("#")
    assert reply is not None and reply.accepted and e.answers["pain_level"] == 7.0
    assert "1 for never, 2 for former smoker, 3 for current smoker" in e.prompt()
    e.press("3")
    assert e.answers["smoking"] == "current"
    assert "0 for none" in e.prompt()
    press_all(e, "24#")
    assert e.answers["symptoms"] == ["cough", "nausea"]


def test_a_key_that_means_nothing_asks_again_with_how_to_type() -> None:
    e = keyed("es")
    reply = e.press("7")  # consent takes 1 or 2
    assert reply is not None and not reply.accepted and reply.say.startswith("O pulse 1 para sí")
    assert e.consent is None
    e.press("2")
    assert e.consent is False and e.step == "ended"


def test_a_range_or_date_typed_wrong_is_refused_like_a_spoken_one() -> None:
    e = keyed()
    e.press("1")
    e.answer("full_name", "John Smith")
    reply = press_all(e, "13451980#")  # no month 13
    assert reply is not None and not reply.accepted and "eight digits" in reply.say
    press_all(e, "03031980#")
    e.answer("reason", "a cough")
    e.press("1")
    reply = press_all(e, "42#")
    assert reply is not None and not reply.accepted and "from 0 to 10" in reply.say


def test_the_read_back_is_confirmed_with_a_key() -> None:
    e = keyed()
    answered(e)  # consent said, not typed
    assert e.step == "readback" and e.prompt().endswith("Or press 1 for yes, 2 for no.")
    reply = e.press("1")
    assert reply is not None and reply.ends and e.status is intake.Status.COMPLETE


def test_with_a_handoff_a_red_flag_says_the_transfer_not_the_safety_message() -> None:
    e = intake.IntakeEngine(PREVISIT, "en", handoff=True)
    e.answer(intake.CONSENT, "yes")
    reply = e.hear("I have crushing chest pain")
    assert reply.red_flag is not None and "transferring you" in reply.say
    assert e.escalation is not None and e.escalation.handoff is True
    assert "emergency" in e.safety_message  # kept for a transfer that fails
