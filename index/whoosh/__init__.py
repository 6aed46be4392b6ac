"""The Whoosh backend: everything in ketlit that imports Whoosh lives in this package.

schema (fields and the index format), analysis (tokenizer glue over index.analysis), writer and
bulkwriter (index writes), engine (the numpy ranking engine over Whoosh's segment readers) and
buffers (the zero-copy BufferFile patch, installed by :func:`index.whoosh.buffers.install` where the
backend opens an index, never on import).
"""
