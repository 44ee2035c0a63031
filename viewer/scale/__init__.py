"""Screening at programme scale: many scans on a Ray cluster, one review store. Qt-free, torch-free.

:mod:`viewer.scale.cluster` connects to Ray and sizes the actor pool (GPU share or CPU per
worker); :mod:`viewer.scale.pool` starts the actors (:class:`inference.service.ray_actor.ScanScreener`,
one model load each) and replaces dead ones; :mod:`viewer.scale.driver` hands out the scans,
retries those whose worker died, and stores every result as it arrives — the driver is the only
writer of the store. Ray is an optional extra (``pip install nodulelens[cluster]``).
"""
