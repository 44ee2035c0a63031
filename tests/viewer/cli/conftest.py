"""A small phantom scan on disk (MetaImage) with one 16 mm nodule, shared by the detect command's tests."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from inference.phantom import SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, NoduleSpec, make_phantom


@pytest.fixture(scope="session")
def phantom_file(tmp_path_factory):
    """(path of the .mha scan, the nodule's truth)."""
    ph = make_phantom(7, SMALL_SHAPE_ZYX, SMALL_SPACING_ZYX, nodules=[NoduleSpec(None, 16.0)])
    img = sitk.GetImageFromArray(np.asarray(ph.volume.voxels))
    img.SetSpacing(ph.volume.spacing_xyz)
    img.SetOrigin(ph.volume.origin)
    img.SetDirection(tuple(ph.volume.direction.ravel()))
    path = tmp_path_factory.mktemp("scan") / "phantom.mha"
    sitk.WriteImage(img, str(path))
    return path, ph.nodules[0]
