"""Course 3.2 and 3.3: pedestrian detection, the ``course_pedestrian`` PaddleHub module.

The rooms:

* ``detectors`` -- the detectors by name: ``load_detector("photo" | "hog" | "paddle")``
* ``ssdlite``   -- SSDLite-MobileNetV2, a real person detector converted into our own Layer
* ``anchors``   -- its SSD anchors and box coder; ``photo`` -- the photo detector (resize/tiles,
                   decoding, NMS; dygraph or Paddle Inference), the default
* ``hog``       -- OpenCV's pretrained HOG + linear SVM people detector (the classic baseline)
* ``centernet`` -- a small CenterNet-style Paddle network ("objects as points"), trained by the course
* ``nms``       -- greedy non-maximum suppression
* ``voc``       -- Pascal VOC annotations: read (errors name the file), write
* ``synthetic`` -- drawn street scenes with exact boxes, as a VOC folder (``paddle-course detect make-data``)
* ``predict``   -- ``detect_images``/``detect_files``: the module's result, as data
* ``draw``      -- boxes drawn on an image
* ``metrics``   -- VOC mAP@0.5 (``difficult`` boxes ignored), recall at <= 1 false box per image;
                   ``evaluate`` -- a detector's mAP and speed on a held-out set
* ``photo_finetune`` -- course 3.3: the photo detector's SSD loss, data set and hub.Trainer model
* ``finetune``  -- course 3.3: the CenterNet fine-tuned on a VOC folder with ``hub.Trainer``
* ``demo``      -- the tour's stop

The hub module ``hub_modules/course_pedestrian/module.py`` is a thin layer over ``predict``.
"""
