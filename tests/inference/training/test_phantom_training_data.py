"""Training on inference.phantom backgrounds: training seeds only, their own nodules as positives."""

from __future__ import annotations

import numpy as np
import pytest

from inference.training.dataset import (PHANTOM_TRAIN_SEEDS, Background, make_training_phantom,
                                        scan_patches)
from inference.training.evaluate import phantom_scans


def test_training_phantom_refuses_evaluation_seeds() -> None:
    with pytest.raises(ValueError, match="not a training seed"):
        make_training_phantom(5, np.random.default_rng(0))


def test_evaluation_refuses_training_phantom_seeds() -> None:
    with pytest.raises(SystemExit, match="training seed"):
        next(phantom_scans("shared", 1, PHANTOM_TRAIN_SEEDS.start))


def test_phantom_nodules_become_positives_at_their_centres() -> None:
    p = make_training_phantom(PHANTOM_TRAIN_SEEDS.start, np.random.default_rng(1))
    assert 1 <= len(p.nodules) <= 6
    bg = Background("phantom", p.volume, p.nodules)
    X, y, tags, centres = scan_patches(bg, np.random.default_rng(2), n_inserted=0, n_hard=10,
                                       n_random=5, per_true=2)
    true = [i for i, t in enumerate(tags) if t.startswith("true-")]
    assert len(true) == 2 * len(p.nodules) and all(y[i] == 1 for i in true)
    kinds = {t.split("-", 1)[1] for t in (tags[i] for i in true)}
    want = {f"{n.nodule_type.value}-{'free' if n.attachment.value == 'none' else n.attachment.value}"
            for n in p.nodules}
    assert kinds == want
    for i in true:  # every positive patch is centred near (within the jitter of) a nodule
        d = min(np.linalg.norm(centres[i] - np.asarray(n.center)) for n in p.nodules)
        assert d <= 3.0 + 1e-6
    negatives = [i for i, v in enumerate(y) if v == 0]
    assert negatives and all(X[i].shape == (2, 24, 24, 24) for i in negatives)
