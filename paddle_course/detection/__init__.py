"""Course 3.2 and 3.3: pedestrian detection, the ``course_pedestrian`` PaddleHub module.

The rooms:

* ``detectors`` -- the two detectors by name: ``load_detector("hog" | "paddle")``
* ``hog``       -- OpenCV's pretrained HOG + linear SVM people detector (works on photographs)
* ``centernet`` -- a small CenterNet-style Paddle network ("objects as points"), trained by the course
* ``nms``       -- greedy non-maximum suppression
* ``voc``       -- Pascal VOC annotations: read (errors name the file), write
* ``synthetic`` -- drawn street scenes with exact boxes, as a VOC folder (``paddle-course detect make-data``)
* ``predict``   -- ``detect_images``/``detect_files``: the module's result, as data
* ``draw``      -- boxes drawn on an image
* ``metrics``   -- VOC mAP@0.5; ``evaluate`` -- a detector's mAP and speed on a held-out set
* ``finetune``  -- course 3.3: the CenterNet fine-tuned on a VOC folder with ``hub.Trainer``
* ``demo``      -- the tour's stop

The hub module ``hub_modules/course_pedestrian/module.py`` is a thin layer over ``predict``.
"""
