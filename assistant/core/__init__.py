"""The plain data and rules every stage shares: the types (Document, Segment, Chunk, Hit,
Answer), the filter rule in its four forms, dates, settings, errors, meeting labels, the
prompt-injection tests and the access levels. Nothing here does I/O of its own or imports
another layer, so every other folder may import from it.
"""
