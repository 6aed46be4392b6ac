"""A Whoosh segment writer that pools postings by term instead of one tuple per posting.

Whoosh's SegmentWriter puts every posting into a pool as a 5-tuple, sorts all of them at commit
and feeds them one at a time through generic codec calls, each of which also reads the document's
field length back from disk. A PubMed record makes ~380 postings (its text is indexed in several
fields), so with analysis made cheap this was ~85% of indexing time (profiled on ``ketlit
reindex``; bench/README.md). This writer keeps each term's postings in flat lists as documents
arrive (documents come in document-number order, so the lists are already sorted), sorts only
the distinct terms at commit, reads each field's lengths once, and fills the codec's posting
blocks a block at a time.

It writes what SegmentWriter writes, byte for byte (tests/index/test_bulkwriter.py compares the
segment files): the codec, the block layout and every statistic are Whoosh's own, so readers,
index/whoosh/engine.py and later merges see no difference. Merges of older segments (MERGE_SMALL at a
harvest commit) come through the same term pool.

It relies on the W3 codec's postings-writer fields (``_ids``, ``_weights``, ``_values``, block
statistics), as index/whoosh/engine.py relies on its readers; the byte comparison test is what guards
an upgrade of whoosh-reloaded.
"""

from __future__ import annotations

from array import array
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermsReader
from whoosh.writing import SegmentWriter

# Postings per writer before the rebuild starts a new segment: reached after ~15,000 PubMed-like
# records; a 100,000-record reindex then peaks at ~340 MB RSS (one segment: ~1.5 GB) and its
# index is 7 segments, searched as fast as one (bench/README.md, latency).
DEFAULT_POOL_POSTINGS = 6_000_000


def supports(schema: Any) -> bool:
    """The term pool handles neither term vectors nor separate spelling words."""
    return not any(field.vector or field.separate_spelling() for _name, field in schema.items())


class TermPoolWriter(SegmentWriter):  # type: ignore[misc]
    """SegmentWriter whose pool is ``{field: {term: [doc, weight, value, doc, weight, ...]}}``
    (one flat list per term: most terms of a segment are rare, and a list each for documents,
    weights and values would take several times the memory)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self._terms: dict[str, dict[bytes, list[Any]]] = {}
        self._unsorted: set[tuple[str, bytes]] = set()
        self.pooled = 0  # postings held, for the caller's memory budget

    # -- adding ------------------------------------------------------------------------------

    def add_document(self, **fields: Any) -> None:
        # SegmentWriter.add_document with the postings going to the term pool (no vectors or
        # separate spelling: see supports()).
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    length = self._pool_document(fieldname, docnum, field.index(value),
                                                 fieldboost, field.scorable)
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None,
                                       length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column,
                                                  field.to_column_value(customval))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _pool_document(self, fieldname: str, docnum: int, items: Any, fieldboost: float,
                       scorable: bool) -> int:
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
        get = terms.get
        length = 0
        n = 0
        for tbytes, freq, weight, vbytes in items:
            if fieldboost != 1.0 or type(weight) is not float:
                weight *= fieldboost  # as SegmentWriter does: also makes an int weight a float
            if scorable:
                length += freq
            entry = get(tbytes)
            if entry is None:
                terms[tbytes] = [docnum, weight, vbytes]
            else:
                entry += (docnum, weight, vbytes)
            n += 1
        self.pooled += n
        return length

    def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
        """Postings of a segment the merge policy merges in (its documents renumbered after
        the new ones; deleted ones, absent from ``docmap``, dropped).

        Read a block at a time from the W3 codec: Whoosh's own reader.iter_postings() makes five
        Python calls per posting plus a hash lookup per term, which made merging at a harvest
        commit cost as much as indexing the batch."""
        terms_reader = getattr(reader, "_terms", None)
        if not isinstance(terms_reader, W3TermsReader):
            self._pool_postings(reader.iter_postings(), startdoc, docmap)
            return
        schema = self.schema
        codec, postfile = terms_reader._codec, terms_reader._postfile
        for (fieldname, btext), terminfo in terms_reader.items():
            if fieldname not in schema:
                continue
            m = codec.postings_reader(postfile, terminfo, schema[fieldname].format,
                                      term=(fieldname, btext))
            if not isinstance(m, W3LeafMatcher):  # inlined postings: a ListMatcher
                self._pool_postings(((fieldname, btext, m.id(), m.weight(), m.value())
                                     for _ in _active(m)), startdoc, docmap)
                continue
            flat: list[Any] = []
            while m.is_active():
                m._read_ids()
                m._read_weights()
                m._read_values()
                if docmap is None:
                    for docnum, weight, value in zip(m._ids, m._weights, m._values,
                                                     strict=True):
                        flat += (docnum + startdoc, weight, value)
                else:
                    for docnum, weight, value in zip(m._ids, m._weights, m._values,
                                                     strict=True):
                        newdoc = docmap.get(docnum)
                        if newdoc is not None:  # None: deleted
                            flat += (newdoc, weight, value)
                m._next_block()
            if flat:
                self._pool_flat(fieldname, btext, flat)

    def _pool_flat(self, fieldname: str, btext: bytes, flat: list[Any]) -> None:
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = {}
        self.pooled += len(flat) // 3
        entry = terms.get(btext)
        if entry is None:
            terms[btext] = flat
            return
        if flat[0] <= entry[-3]:
            self._unsorted.add((fieldname, btext))
        entry += flat

    def _pool_postings(self, items: Any, startdoc: int, docmap: Any) -> None:
        """Whoosh's (field, term, doc, weight, value) postings, one at a time."""
        for fieldname, btext, docnum, weight, vbytes in self._process_posts(items, startdoc,
                                                                            docmap):
            self._pool_flat(fieldname, btext, [docnum, weight, vbytes])

    # -- writing -----------------------------------------------------------------------------

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        try:
            self._write_terms(pdr)
        finally:
            self.fieldwriter.close()
            if pdr is not None:
                pdr.close()

    def _write_terms(self, pdr: Any) -> None:
        fw = self.fieldwriter
        ndocs = self.docnum
        for fieldname in sorted(self._terms):
            terms = self._terms[fieldname]
            if not terms:
                continue
            # The length of the field in every document, read once (Whoosh reads it per posting);
            # doc_field_length gives None for an empty field, which the block statistics skip.
            lengths = ([pdr.doc_field_length(d, fieldname) for d in range(ndocs)]
                       if pdr is not None else None)
            fw.start_field(fieldname, self.schema[fieldname])
            for btext in sorted(terms):
                entry = terms[btext]
                docs, weights, values = entry[0::3], entry[1::3], entry[2::3]
                if (fieldname, btext) in self._unsorted:
                    order = sorted(range(len(docs)), key=docs.__getitem__)
                    docs = [docs[i] for i in order]
                    weights = [weights[i] for i in order]
                    values = [values[i] for i in order]
                fw.start_term(btext)
                _fill_postings(fw._postwriter, docs, weights, values, lengths)
                fw.finish_term()
            fw.finish_field()
        self._terms = {}


def _fill_postings(pw: Any, docs: list[int], weights: list[float], values: list[bytes],
                   lengths: list[int | None] | None) -> None:
    """What W3PostingsWriter.add_posting does for each posting, a block at a time: a block is
    written when it is full and another posting comes; the last one is left for
    finish_postings (which marks it last)."""
    limit = pw._blocklimit
    n = len(docs)
    for start in range(0, n, limit):
        if start:
            pw._write_block()
        end = min(start + limit, n)
        ids = docs[start:end]
        ws = weights[start:end]
        pw._ids = array("I", ids)
        pw._weights = array("f", ws)
        pw._values = [v for v in values[start:end] if v]
        top = max(ws)
        pw._maxweight = top if top > 0 else 0
        if lengths is not None:
            present = [ln for ln in (lengths[d] for d in ids) if ln]
            if present:
                pw._minlength = min(present)
                pw._maxlength = max(present)


def _active(m: Any) -> Any:
    """Steps a matcher through its postings (yields once per posting, before moving on)."""
    while m.is_active():
        yield None
        m.next()
