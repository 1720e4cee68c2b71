"""The BM25 index (bm25s), rebuilt from remembered tokens when one file changes.

BM25 weights every term by how many chunks use it, so any edit changes every chunk's scores
and the index is rebuilt whole. What need not be redone is the text work: each chunk's tokens
are kept (as ids into a vocabulary that only grows), and the scores are computed from them in
a few array operations instead of bm25s's loop over chunks. `LexicalBuilder` computes exactly
what bm25s's own `index` does (Lucene BM25, k1 1.5, b 0.75, float32); a test checks it.
"""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer

STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lowercased, stemmed words without English stopwords: how BM25 sees text.

    A field or metric id is its words: the glossary writes `win_rate` and `close_date`, people
    type "win rate" and "close date".
    """
    return bm25s.tokenize([t.replace("_", " ") for t in texts], stopwords="en", stemmer=STEMMER,
                          return_ids=False, show_progress=False)


class LexicalBuilder:
    """Builds BM25 indexes over chunks, tokenizing only texts it has not seen before."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}  # word -> id, for every word ever seen
        self._words: list[str] = []
        self._chunks: dict[str, np.ndarray] = {}  # chunk digest -> its words' ids

    def build(self, digests: list[str], texts: list[str]) -> bm25s.BM25:
        """An index whose document i is `texts[i]`, whose text hashes to `digests[i]`."""
        fresh = {d: t for d, t in zip(digests, texts, strict=True) if d not in self._chunks}
        for digest, words in zip(fresh, tokenize(list(fresh.values())), strict=True):
            self._chunks[digest] = np.array([self._id(w) for w in words], dtype=np.int64)
        self._chunks = {d: self._chunks[d] for d in digests}  # forget the removed
        docs = [self._chunks[d] for d in digests]
        flat = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        # Renumber the words in use 0..n-1, so removed chunks' words leave the vocabulary.
        used, local = np.unique(flat, return_inverse=True)
        vocab = {self._words[g]: i for i, g in enumerate(used.tolist())}
        lengths = np.array([len(d) for d in docs], dtype=np.int64)
        index = _ArrayBM25()
        index.index((np.split(local, np.cumsum(lengths)[:-1]) if docs else [], vocab),
                    show_progress=False)
        return index

    def _id(self, word: str) -> int:
        found = self._ids.get(word)
        if found is None:
            found = self._ids[word] = len(self._words)
            self._words.append(word)
        return found


class _ArrayBM25(bm25s.BM25):
    """bm25s's index built with array operations (its documented override point)."""

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,
                             leave_progress=False):
        self.nonoccurrence_array = None  # used only by BM25L and BM25+, not Lucene
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.array([len(d) for d in corpus_token_ids], dtype=np.int64)
        avg_len = lengths.mean() if n_docs else np.float64(0.0)
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        word = np.concatenate(corpus_token_ids) if n_docs else np.zeros(0, dtype=np.int64)
        pairs, tf = np.unique(doc * max(n_vocab, 1) + word, return_counts=True)
        doc, word = np.divmod(pairs, max(n_vocab, 1))
        df = np.bincount(word, minlength=n_vocab)
        with np.errstate(divide="ignore", invalid="ignore"):
            idf = np.where(df > 0, np.log(1 + (n_docs - df + 0.5) / (df + 0.5)), 0.0)
        idf = idf.astype(self.dtype)
        tf = tf.astype(self.dtype)
        tfc = tf / (self.k1 * ((1 - self.b) + self.b * lengths[doc] / avg_len) + tf)
        scores = (idf[word] * tfc).astype(self.dtype)
        data, indices, indptr = self._np_csc(data=scores, rows=doc.astype(self.int_dtype),
                                             cols=word.astype(self.int_dtype),
                                             shape=(n_docs, n_vocab))
        return {"data": data.astype(self.dtype), "indices": indices, "indptr": indptr,
                "num_docs": n_docs}
