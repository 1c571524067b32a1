"""Sample reviews for the fine-tune recipe (course 3.3): gadget reviews in internet slang.

The shipped ``course_sentiment`` reads some of today's slang the wrong way round: 「强到离谱」
("absurdly strong") comes out negative, the sarcastic 「散热靠吼」 ("it cools down by shouting at
it") positive.  :func:`slang_reviews` writes seeded reviews made of such phrases: the domain shift
a fine-tune is for.  ``paddle-course samples`` writes them as ``my_train.tsv`` and
``my_dev.tsv`` (no dev text is also a training text).  Made by the package: no licence question.
"""
import random

# Picked because the shipped BiLSTM reads each of them the wrong way round after 「这手机」
# (measured p(positive): praise 0.02-0.49, sarcasm and complaints 0.61-0.98)
PRAISE = ["太可了", "不踩雷", "离谱地好用", "awsl", "强到离谱", "要命地好看", "后悔没早买", "强得可怕", "续航怪兽",
          "电量焦虑没了", "流畅到离谱", "便宜到离谱", "牛到离谱"]
SARCASM = ["电量掉得比股票还快", "客服很忙", "暖手宝", "就这", "拉胯", "一生黑", "寄了", "芭比Q了", "麻了", "电池是装饰",
           "散热靠吼", "颜值刺客", "价格刺客", "真会省料", "主打一个陪伴", "发热很热情", "用了想哭", "非常适合当砖头",
           "一言难尽", "拍照很艺术"]
SUBJECTS = ["这手机", "新耳机", "这台平板", "这块手表", "这个充电宝", "这款音箱", "这台笔记本", "新买的相机",
            "这个键盘", "这副眼镜"]
OPENINGS = ["", "说实话，", "用了一周，", "收到了，", "朋友推荐的，", "第二次买了，", "刚拆箱，"]
ENDINGS = ["", "！", "。", "~", "！！", "…"]


def slang_reviews(count, seed=0):
    """``count`` seeded ``(text, label)`` pairs, about half of each label, e.g. ``("刚拆箱，这个键盘丝滑，闭眼入！", 1)``."""
    rng = random.Random(seed)
    reviews = []
    for index in range(count):
        label = (index + seed) % 2
        phrases = rng.sample(PRAISE if label else SARCASM, rng.randint(1, 2))
        text = rng.choice(OPENINGS) + rng.choice(SUBJECTS) + "，".join(phrases) + rng.choice(ENDINGS)
        reviews.append((text, label))
    rng.shuffle(reviews)
    return reviews


def train_and_dev_reviews(num_train=240, num_dev=120, seed=0):
    """``(train, dev)`` slang reviews; dev never repeats a training text (so it measures what was not trained on)."""
    train = slang_reviews(num_train, seed)
    seen = {text for text, _ in train}
    dev, draw = [], seed + 1
    while len(dev) < num_dev:
        dev += [(t, label) for t, label in slang_reviews(num_dev, draw) if t not in seen and t not in dict(dev)]
        draw += 1000
    return train, dev[:num_dev]
