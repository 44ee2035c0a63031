"""The candidate CNN: scores one candidate from a two-scale patch (fine 1 mm + coarse 2 mm).

Layout (``candidate-cnn-v1``, sized for CPU training): a stem (one conv-BN-ReLU), then two blocks
(conv-BN-ReLU x2), max-pooling after the stem and block 2, global average pooling and a linear
head giving the nodule logit. ``features.block3`` — the last conv block, a 4 mm feature grid on
the fine patch — is the documented Grad-CAM layer.
"""

from __future__ import annotations

import torch
from torch import nn

GRADCAM_LAYER = "features.block3"


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

    def feature_layer(self) -> nn.Module:
        return self.features.block3


def build(network: dict) -> CandidateNet:
    return CandidateNet(in_channels=int(network.get("in_channels", 2)),
                        width=int(network.get("width", 16)))
