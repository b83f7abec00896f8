"""``tg.data``: the corpora and synthetic tasks of the lessons.

- Tiny Shakespeare (:func:`load_shakespeare`): a checked local copy or a one-time download,
  split into training and validation ids, with random and sequential batches.
- Synthetic tasks, generated from a seed and never stored: the adding problem, copy and
  reversal (:mod:`.synthetic`), and lesson 3's slot filling (:mod:`.slots`).
"""
from .shakespeare import (
    CharCorpus,
    DataError,
    Vocab,
    load_shakespeare,
    load_text,
    random_batch,
    sequential_batches,
    shakespeare_path,
)
from .slots import TAGS, WORDS, SlotData, slot_filling, slot_sentences, tagged_sentence
from .synthetic import adding_problem, copy_task, reversal_task

__all__ = [
    "TAGS",
    "WORDS",
    "CharCorpus",
    "DataError",
    "SlotData",
    "Vocab",
    "adding_problem",
    "copy_task",
    "load_shakespeare",
    "load_text",
    "random_batch",
    "reversal_task",
    "sequential_batches",
    "shakespeare_path",
    "slot_filling",
    "slot_sentences",
    "tagged_sentence",
]
