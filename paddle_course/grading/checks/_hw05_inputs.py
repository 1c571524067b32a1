"""hw05's inputs and expected values, computed in NumPy: slang reviews, random texts, cross-entropy, accuracy.

Nothing here touches the learner's code; :mod:`._hw05_child` and the checks in
:mod:`.hw05` use these to make inputs and to know the right (and the typical wrong) answers.
"""
import numpy as np

# --- the domain-shifted reviews -------------------------------------------------

# Gadget reviews in internet slang.  The shipped module (the BiLSTM of 2026-12) learned from
# plain-language reviews and reads each phrase below the wrong way round: praise that sounds
# alarming (离谱, 吓人, 可怕, 摩擦) and complaints dressed as praise (很热情, 很有个性, 很感人).
# Measured p(positive) of 「这手机」 + phrase: praise 0.00-0.38, sarcasm 0.72-1.00; the ordinary
# slang of the first version (yyds, 绝绝子, 续航感人, 智商税, ...) it already reads right.
SLANG_PRAISE = ["便宜得离谱", "续航离谱地长", "薄得离谱", "强到离谱", "真没白买", "快得吓人", "满电焦虑没了",
                "把友商按在地上摩擦", "强得可怕", "毫无槽点", "格局打开", "真不赖", "爽翻了", "拍照一绝"]
SLANG_SARCASM = ["发热很热情", "用了想哭", "非常适合当砖头", "栓Q", "一言难尽", "可以煎鸡蛋", "暖手宝功能很强",
                 "信号很有个性", "拍照很有艺术感", "电池很有性格", "系统很有个性", "做工很感人", "质量很感人",
                 "蚌埠住了", "白给", "拉胯"]
GADGETS = ["这手机", "新耳机", "这台平板", "这块手表", "这个充电宝", "这款音箱", "这台笔记本", "新买的相机"]
OPENINGS = ["", "说实话，", "用了一周，", "收到了，", "朋友推荐的，", "第二次买了，"]
ENDINGS = ["", "！", "。", "~", "！！"]


def slang_reviews(rng, count):
    """``count`` seeded ``(text, label)`` pairs, half of each label: a gadget and one or two slang phrases.

    e.g. ``("用了一周，这个充电宝薄得离谱，真不赖！", 1)``, ``("这台平板系统很有个性。", 0)``.
    """
    labels = rng.permutation(np.arange(count) % 2)
    reviews = []
    for label in labels:
        phrases = SLANG_PRAISE if label == 1 else SLANG_SARCASM
        picked = rng.choice(phrases, size=int(rng.integers(1, 3)), replace=False)
        text = (OPENINGS[rng.integers(len(OPENINGS))] + GADGETS[rng.integers(len(GADGETS))]
                + "，".join(picked) + ENDINGS[rng.integers(len(ENDINGS))])
        reviews.append((text, int(label)))
    return reviews


# --- random texts for the data set check ----------------------------------------

# characters of the random texts; the small vocabulary of the check knows only some of them
CHAR_POOL = list("好书差评快递很慢服务热情房间干净价格便宜质量一般推荐失望满意喜欢") + list("abcXYZ123")


def random_text(rng, max_chars):
    """A random text whose inside holds runs of spaces and full-width spaces (normalize_text joins them)."""
    pieces = []
    for _ in range(int(rng.integers(1, 4))):
        pieces.append("".join(rng.choice(CHAR_POOL, size=int(rng.integers(1, max_chars)))))
    glue = ["  ", "\u3000", " \u3000 "]
    text = pieces[0]
    for piece in pieces[1:]:
        text += glue[rng.integers(len(glue))] + piece
    return text


# --- what a batch's loss and accuracy must be, and what the common mistakes give ----

def split_point(values, count_below):
    """A number with ``count_below`` of ``values`` below it and the rest above (half-way between two)."""
    ordered = np.sort(values)
    return (ordered[count_below - 1] + ordered[count_below]) / 2


def reference_cross_entropy(logits, labels):
    """``1/B sum_i (log sum_k exp z_ik - z_i,y_i)``."""
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_norm - logits[np.arange(len(labels)), labels]))


def softmax(logits):
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def reference_accuracy(logits, labels):
    return float(np.mean(logits.argmax(axis=1) == labels))


def wrong_accuracies(logits, labels):
    return {
        "the positive logit is compared with 0.5; logits are not probabilities: use logits.argmax(axis=1)":
            float(np.mean((logits[:, 1] > 0.5) == labels)),
        "argmax [B] was compared with labels of shape [B, 1], which broadcasts to a [B, B] matrix: "
        "compare logits.argmax(axis=1) with labels.reshape([-1])":
            float(np.mean(logits.argmax(axis=1)[None, :] == labels[:, None])),
        "the accuracy is a count of right answers, not their mean": float(np.sum(logits.argmax(axis=1) == labels)),
        "the accuracy is a percentage; hub.Trainer and the dev comparison expect a fraction in [0, 1]":
            100.0 * reference_accuracy(logits, labels),
    }


def wrong_losses(logits, labels):
    return {
        "the loss is a sum over the batch: take the mean (F.cross_entropy's default reduction='mean'); "
        "a sum grows with the batch size, so the losses of different batches (and SGD's steps) do not compare":
            len(labels) * reference_cross_entropy(logits, labels),
        "softmax was applied before F.cross_entropy, which takes the logits (it applies softmax itself)":
            reference_cross_entropy(softmax(logits), labels),
        "the labels are flipped (1 - y)": reference_cross_entropy(logits, 1 - labels),
        "the sign is flipped: the loss is -log p(y | text), a positive number": -reference_cross_entropy(logits, labels),
    }
