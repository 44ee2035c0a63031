"""The candidate CNN: scores one candidate from a two-scale patch (fine 1 mm + coarse 2 mm).

Layout (``candidate-cnn-v1``, sized for CPU training): a stem (one conv-BN-ReLU), then two blocks
(conv-BN-ReLU x2), max-pooling after the stem and block 2, global average pooling and a linear
head giving the nodule logit. The documented Grad-CAM layer is ``features.block2``: the last conv
block on a 2 mm grid. (``features.block3``, on a 4 mm grid, put only 24-55 % of the map's mass
inside 1.5x the box of 8-10 mm phantom nodules against 69-91 % for block2; the manifest's
``network.gradcam_layer`` names the layer used.)
"""

from __future__ import annotations

import torch
from torch import nn

GRADCAM_LAYER = "features.block2"


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True),
        nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True),
    )


class CandidateNet(nn.Module):
    def __init__(self, in_channels: int = 2, width: int = 16) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential()
        self.features.add_module("stem", nn.Sequential(
            nn.Conv3d(in_channels, w, 3, padding=1, bias=False), nn.BatchNorm3d(w),
            nn.ReLU(inplace=True)))
        self.features.add_module("pool1", nn.MaxPool3d(2))
        self.features.add_module("block2", _block(w, 2 * w))
        self.features.add_module("pool2", nn.MaxPool3d(2))
        self.features.add_module("block3", _block(2 * w, 4 * w))
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(4 * w, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)

    def feature_layer(self, name: str = GRADCAM_LAYER) -> nn.Module:
        return self.get_submodule(name)


def build(network: dict) -> CandidateNet:
    return CandidateNet(in_channels=int(network.get("in_channels", 2)),
                        width=int(network.get("width", 16)))
