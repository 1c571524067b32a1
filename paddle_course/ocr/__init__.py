"""Course 3.2 and 3.3: OCR and the waybill (快递单) exercise, the ``course_ocr`` PaddleHub module.

The rooms:

* ``engine``   -- PP-OCRv4 (detection, direction, recognition) run offline from the
  ``rapidocr-onnxruntime`` wheel; the same pipeline with the course's CRNN as recognizer
* ``predict``  -- ``recognize_text``: images or files in, lines with confidence and box out (data)
* ``draw``     -- the result drawn beside the image
* ``waybill``  -- name, phone and address from a waybill's text: a BiGRU-CRF labeller, the rules as fallback
* ``render``   -- images with known text, drawn with the shipped CJK font (waybills, benchmark samples)
* ``metrics``  -- edit distance, character and line accuracy
* ``crnn``     -- the course's own line recognizer (CRNN + CTC) and its plug-in for the pipeline
* ``lines``    -- rendered line crops for training it (``paddle-course ocr sample-lines``)
* ``finetune`` -- course 3.3: the CRNN fine-tuned with ``hub.Trainer``; ``pretrain_base``
* ``demo``     -- the tour's stop

The hub module ``hub_modules/course_ocr/module.py`` is a thin layer over ``predict``.
"""
