"""Slot filling for a ticket-booking system: "arrive Taipei on November 2nd".

The example of Hung-yi Lee's lecture on recurrent networks: in "I would like to arrive Taipei on
November 2nd", *Taipei* is the destination and *November 2nd* the time of arrival; in "I would
like to leave Taipei on November 2nd" the same words are the place and the time of departure.
A tagger that reads one word at a time cannot tell the two apart: it must remember the verb.
Sentences are generated from a seed (never stored); every word is tagged with one of
:data:`TAGS`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .synthetic import generator

TAGS = ("other", "destination", "arrival time", "departure", "departure time")
PREFIXES = ("i would like to", "i want to", "i need to", "please let me", "can i", "i will")
VERBS = {"arrive": ("destination", "arrival time"), "leave": ("departure", "departure time")}
CITIES = ("taipei", "tokyo", "paris", "london", "boston", "seoul", "rome", "sydney")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")


def ordinal(d: int) -> str:
    """``1 -> "1st"``, ``2 -> "2nd"``, ``11 -> "11th"``, ``23 -> "23rd"``."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th") if d // 10 != 1 else "th"
    return f"{d}{suffix}"


DAYS = tuple(ordinal(d) for d in range(1, 29))
PAD = "<pad>"
WORDS = (PAD, *sorted({w for p in PREFIXES for w in p.split()} | set(VERBS) | {"on"}
                      | set(CITIES) | set(MONTHS) | set(DAYS)))
IGNORE = -100  # the tag id of padding: cross_entropy's default ignore_index


def tagged_sentence(verb: str, city: str, month: str, day: str, prefix: str = "i would like to"
                    ) -> tuple[list[str], list[str]]:
    """One sentence and its tags.

    >>> words, tags = tagged_sentence("arrive", "taipei", "november", "2nd")
    >>> list(zip(words, tags))[4:]      # doctest: +NORMALIZE_WHITESPACE
    [('arrive', 'other'), ('taipei', 'destination'), ('on', 'other'),
     ('november', 'arrival time'), ('2nd', 'arrival time')]
    """
    place, time = VERBS[verb]
    words = [*prefix.split(), verb, city, "on", month, day]
    tags = ["other"] * (len(words) - 4) + [place, "other", time, time]
    return words, tags


def slot_sentences(n: int, seed: int | np.random.Generator | None = 0
                   ) -> list[tuple[list[str], list[str]]]:
    """``n`` random tagged sentences, half with "arrive" and half with "leave" on average."""
    rng = generator(seed)

    def pick(options):
        return options[int(rng.integers(len(options)))]

    return [tagged_sentence(pick(tuple(VERBS)), pick(CITIES), pick(MONTHS), pick(DAYS),
                            pick(PREFIXES)) for _ in range(n)]


@dataclass
class SlotData:
    """Tagged sentences as padded, time-major id arrays.

    Attributes:
        x: word ids (T, N), padded at the end with the id of ``<pad>`` (0).
        y: tag ids (T, N), :data:`IGNORE` (-100) at padding.
        sentences: the words and tags behind each column.
    """

    x: np.ndarray
    y: np.ndarray
    sentences: list[tuple[list[str], list[str]]]


def encode(sentences: list[tuple[list[str], list[str]]]) -> SlotData:
    """Tagged sentences as a :class:`SlotData` over the fixed vocabulary :data:`WORDS`."""
    word_id = {w: i for i, w in enumerate(WORDS)}
    tag_id = {t: i for i, t in enumerate(TAGS)}
    T = max(len(words) for words, _ in sentences)
    x = np.zeros((T, len(sentences)), dtype=np.int64)
    y = np.full((T, len(sentences)), IGNORE, dtype=np.int64)
    for j, (words, tags) in enumerate(sentences):
        x[:len(words), j] = [word_id[w] for w in words]
        y[:len(tags), j] = [tag_id[t] for t in tags]
    return SlotData(x, y, sentences)


def slot_filling(n: int, seed: int | np.random.Generator | None = 0) -> SlotData:
    """``n`` generated slot-filling sentences, encoded (see :func:`slot_sentences`)."""
    return encode(slot_sentences(n, seed))
