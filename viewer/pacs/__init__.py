"""PACS connectivity without Qt: DICOM (pynetdicom) and DICOMweb (dicomweb-client) nodes,
query/retrieve with priors, the C-STORE listener, and sending results back with a persistent queue.

Modules: ``nodes`` / ``config`` (settings), ``dimse`` and ``web`` (the two protocols), ``query``
(search terms and hits), ``archive`` (atomic writes, patient/study/series layout), ``retrieve``
(pull with priors), ``listener`` + ``intake`` (receive, register, screen), ``send`` + ``push``
(results to a node; the queue's SQL is :mod:`viewer.review.pacs_queue`).
"""
