"""Is the user's sentence plainly unfinished? A cheap check on the running transcript.

On real recorded prompts the local audio end-of-turn model separates mid-turn pauses from
real ends only weakly, and most pauses that fool it follow words that cannot end a sentence
("you have …", "please enter your …", "press …"). A closed-class word list per language is
enough to see those, costs a dictionary lookup on the audio hot path, and only ever makes the
session wait longer (``max_delay`` instead of ``min_delay``), never answer sooner.

The check is only as good as the transcript it reads: a local STT's final lags the end of
speech by a few hundred milliseconds, and judging the turn before it arrives judges words
nobody has read. The audio model predicts as the silence begins; its prediction is handed to
the session once the final of the latest speech is in (0.6 s at most), and judged on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import Callable
from typing import Any

from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
)

WAIT_FOR_FINAL_S = 0.6
"""Longest wait for the final transcript of the latest speech: within livekit-agents' 1 s
prediction timeout, past which the turn would be committed without any prediction."""

HOLD = 0.05
"""The end-of-turn probability is multiplied by this when the sentence is unfinished: below
any unlikely-threshold, so the session waits its ``max_delay``."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


UNFINISHED_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """
        a an the my your our their his her its this that these those some any no every to of
        in on at by for with from into about as than and or but nor so if because when while
        where which who whose whom is are was were be been being am has have had do does did
        will would shall should can could may might must not please enter press dial say
        choose select call type like um uh er
        """
    ),
    # with the transitive verbs a caller stops after ("usted tiene …", "quiero …")
    "es": _words(
        """
        el la los las un una unos unas mi tu su nuestro nuestra este esta ese esa a de en
        con por para sin sobre entre y o pero que porque cuando si como es son era fue ha he
        han hay está están muy más por favor introduzca marque pulse diga eh tiene tengo
        tienes tenemos tienen quiero quiere desea necesito necesita
        """
    ),
    "fr": _words(
        """
        le la les l un une des du au aux mon ma mes ton ta tes son sa ses notre votre leur
        ce cet cette ces à de d en dans sur sous par pour avec sans chez vers entre et ou
        mais donc car que qu si quand comme est sont était a ai as avons avez ont être avoir
        peut doit va vous nous je j il elle ils très plus pas veuillez entrez composez
        appuyez tapez dites choisissez euh
        """
    ),
    "it": _words(
        """
        il lo la i gli le l un uno una mio mia miei mie tuo tua suo sua suoi sue nostro
        nostra vostro vostra loro questo questa questi queste quel quella a ad di da in su
        con per tra fra al allo alla ai agli alle del dello della dei degli delle nel nello
        nella nei negli nelle sul sulla dal dalla e ed o oppure ma però che se quando come
        perché è sono era erano ha hanno ho hai abbiamo avete non molto più prego premere
        premi premete digitare digiti digita comporre dire selezionare ehm
        """
    ),
    # with "у" and "вас": "у вас …" is how Russian says "you have …"
    "ru": _words(
        """
        в во на с со к ко по о об от до из за для без под над при про через и а но или что
        чтобы если когда как потому мой моя мои ваш ваша ваши наш наша наши твой твоя его её
        их этот эта это эти тот та те у вас нас есть был была было были будет не очень более
        пожалуйста нажмите наберите введите скажите выберите э
        """
    ),
}


def unfinished(text: str, language: str) -> bool:
    """True when the transcript stops on a word that cannot end a sentence, or trails off."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith(("...", "…", ",", "-")):
        return True
    words = re.findall(r"[\w']+", stripped.lower())
    closed = UNFINISHED_WORDS.get(language.split("-")[0].lower(), frozenset())
    return bool(words) and words[-1] in closed


class TranscriptTail:
    """The user's words since their turn began: finals so far plus the latest interim, and
    whether the recognizer has caught up with the user's latest speech."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._finals: list[str] = []
        self._interim = ""
        self._caught_up = asyncio.Event()
        self._caught_up.set()

    @property
    def text(self) -> str:
        return " ".join([*self._finals, self._interim]).strip()

    @property
    def unheard(self) -> bool:
        """The user spoke since the last final transcript."""
        return not self._caught_up.is_set()

    async def heard(self, timeout: float) -> None:
        """Until the latest speech has its final transcript, for ``timeout`` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)

    def holds(self) -> bool:
        """Wait for more: the words read so far are plainly unfinished."""
        return unfinished(self.text, self.language)

    def on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.new_state == "speaking":
            self._caught_up.clear()

    def on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if ev.is_final:
            self._finals.append(ev.transcript)
            self._interim = ""
            # The STT cuts its segments on a shorter silence than the session's VAD, so the
            # last segment's final covers the speech the session is judging.
            self._caught_up.set()
        else:
            self._interim = ev.transcript

    def on_item(self, ev: ConversationItemAddedEvent) -> None:
        if ev.item.type == "message" and ev.item.role == "user":  # the turn was taken
            self._finals, self._interim = [], ""


EotObserver = Callable[[float, float], None]
"""Called with each end-of-turn probability the session is handed, and the time it came
(``time.monotonic()``): for the eval's per-case report."""


class _HeldStream:
    """The audio model's stream, with its predictions held back on unfinished sentences
    (when there is a transcript to read) and handed to an observer."""

    def __init__(
        self, inner: Any, tail: TranscriptTail | None, observe: EotObserver | None = None
    ) -> None:
        self._inner, self._tail, self._observe = inner, tail, observe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def predict(self) -> asyncio.Future[Any]:
        inner: asyncio.Future[Any] = self._inner.predict()
        held: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def judge(ev: Any) -> None:
            # The model predicts as the silence begins, before a local STT's final: the
            # words are read once the final is in (the session waits for the prediction).
            if self._tail is not None:
                await self._tail.heard(WAIT_FOR_FINAL_S)
            if held.done():
                return
            if self._tail is not None and self._tail.holds():
                ev = dataclasses.replace(
                    ev, end_of_turn_probability=ev.end_of_turn_probability * HOLD
                )
            if self._observe is not None:
                self._observe(ev.end_of_turn_probability, time.monotonic())
            held.set_result(ev)

        def relay(f: asyncio.Future[Any]) -> None:
            if held.done():
                return
            if f.cancelled():
                held.cancel()
            elif (e := f.exception()) is not None:
                held.set_exception(e)
            else:
                task = asyncio.ensure_future(judge(f.result()))
                held.add_done_callback(lambda h: task.cancel() if h.cancelled() else None)

        inner.add_done_callback(relay)
        held.add_done_callback(lambda h: inner.cancel() if h.cancelled() else None)
        return held
