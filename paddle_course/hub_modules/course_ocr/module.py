"""course_ocr: Chinese and English text detection + recognition (PP-OCRv4), offline.

Course 3.2 (PaddleHub): 文字识别 and the 快递单识别 exercise.  Shaped like PaddleHub's
``chinese_ocr_db_crnn_mobile``: ``recognize_text`` takes BGR arrays or image
paths and returns, per image, the lines found with their confidence and box.
The networks are PaddleOCR's PP-OCRv4 detector and recognizer and the mobile
direction classifier, run as the ONNX exports shipped in ``rapidocr-onnxruntime``
(see README.md); ``checkpoint=`` swaps the recognizer for a CRNN fine-tuned with
``paddle-course finetune ocr``.
"""
import argparse

import paddle
from paddlehub.module.module import moduleinfo, runnable, serving

from paddle_course.common.images import encode_base64_image
from paddle_course.common.untrusted_images import decode_base64_image
from paddle_course.ocr.draw import draw_result
from paddle_course.ocr.engine import engine, engine_with_checkpoint
from paddle_course.ocr.predict import recognize_text


@moduleinfo(
    name="course_ocr",
    version="1.0.0",
    summary="PP-OCRv4 text detection, direction classification and recognition (Chinese + English), "
    "offline on the CPU; a fine-tuned CRNN recognizer can be swapped in with checkpoint=.",
    author="paddle_course",
    author_email="",
    type="cv/text_recognition",
)
class CourseOCR(paddle.nn.Layer):
    # A paddle.nn.Layer, like the other course modules: PaddleHub 2.4 runs every method of a
    # module that is not a Layer inside paddle.enable_static() and leaves static mode on when the
    # method raises, which breaks the dygraph CRNN of ``checkpoint=`` and any Paddle code after it.

    # ``paddle-course serve`` may answer the images of concurrent requests in one call (micro-batching)
    # and split the list it returns: each image is read on its own.
    serving_batch = {"items": "images"}

    def __init__(self, checkpoint=None, num_threads=None):
        """
        Args:
            checkpoint: a folder written by ``paddle-course finetune ocr`` (holding
                ``model.safetensors`` and ``crnn_config.json``); its CRNN replaces the
                PP-OCRv4 recognizer while detection and direction stay PP-OCRv4.
            num_threads: onnxruntime threads, default ``$OMP_NUM_THREADS`` or all cores.
        """
        paddle.nn.Layer.__init__(self)
        self.checkpoint = checkpoint
        if checkpoint:
            self._engine = engine_with_checkpoint(checkpoint, num_threads=num_threads)
        else:
            self._engine = engine(num_threads)

    def recognize_text(self, images=None, paths=None, use_gpu=False, output_dir="ocr_result",
                       visualization=False, box_thresh=0.5, text_thresh=0.5,
                       angle_classification_thresh=0.9):
        """Detect and read the text lines of each image.

        Args:
            images (list[numpy.ndarray]): BGR images of shape (H, W, 3), as ``cv2.imread`` gives.
            paths (list[str]): image files; ``images`` and ``paths`` may both be given
                (arrays first in the result).
            use_gpu (bool): must be False: the ONNX models run on the CPU.
            output_dir (str): where ``visualization`` saves annotated images.
            visualization (bool): save each image with its boxes and text drawn.
            box_thresh (float): minimum mean text probability inside a detected box.
            text_thresh (float): lines recognised with a lower confidence are dropped.
            angle_classification_thresh (float): confidence needed to turn a crop by 180 degrees.

        Returns:
            list[dict], one per image, with keys
                save_path (str): the annotated image's path, "" when not visualised;
                data (list[dict]): the lines top to bottom, each with keys
                    text (str): the recognised text;
                    confidence (float): mean character probability, 0..1;
                    text_box_position (list): 4 points ``[x, y]`` (int pixels),
                        clockwise from the top-left corner.
        """
        if use_gpu:
            raise ValueError("course_ocr runs on the CPU (onnxruntime); call it with use_gpu=False")
        return recognize_text(self._engine, images=images, paths=paths, output_dir=output_dir,
                              visualization=visualization, box_thresh=box_thresh, text_thresh=text_thresh,
                              angle_classification_thresh=angle_classification_thresh)

    def extract_waybill(self, texts=None, batch_size=64):
        """快递单信息抽取: the recipient's name, phone and address of each waybill text.

        ``texts``: a list of str, one waybill each (OCR lines joined by "\\n").  Returns one
        ``{"name", "phone", "address"}`` per text (None for a field not found), from the
        BiGRU-CRF labeller of :mod:`paddle_course.ocr.waybill`.  Not a second ``@serving``:
        PaddleHub keeps one serving method per module class.
        """
        from paddle_course.ocr.waybill import extract_fields

        if not isinstance(texts, (list, tuple)):
            raise ValueError(f"'texts' must be a list of strings, got {type(texts).__name__}")
        return extract_fields(list(texts), batch_size=batch_size)

    @serving
    def serving_method(self, images, visualization=False, box_thresh=0.5, text_thresh=0.5,
                       angle_classification_thresh=0.9, use_gpu=False, **unknown):
        """``hub serving``: ``{"images": [base64 image file, ...], ...recognize_text options}``.

        Returns what ``recognize_text`` returns.  Nothing in a request names a file: with
        ``visualization`` each result carries the annotated image, a base64 JPEG, as
        ``visualized_image`` (``save_path`` stays ""), and no file is written.  Image sizes are
        read from the file headers before decoding.  A bad body raises ValueError naming the problem.
        """
        if not isinstance(images, list):
            raise ValueError(f"'images' must be a list of base64-encoded images, got {type(images).__name__}")
        if not images:
            raise ValueError("'images' is empty: send at least one base64-encoded image")
        if unknown:  # output_dir among them: the server chooses no path from a request
            raise ValueError(f"unknown option(s) {sorted(unknown)} for recognize_text")
        if not isinstance(visualization, bool):
            raise ValueError(f"visualization must be true or false, got {visualization!r}")
        decoded = [decode_base64_image(item, f"images[{i}]") for i, item in enumerate(images)]
        results = self.recognize_text(images=decoded, use_gpu=use_gpu, box_thresh=box_thresh,
                                      text_thresh=text_thresh, angle_classification_thresh=angle_classification_thresh)
        if visualization:
            for image, result in zip(decoded, results):
                result["visualized_image"] = encode_base64_image(draw_result(image, result["data"]), ".jpg")
        return results

    def create_gradio_app(self):
        """The module's web page (PaddleHub's convention): a waybill in; boxes, lines and the recipient out.

        Returns a ``gradio.Blocks``; ``.launch()`` serves it alone, ``paddle-course app`` shows it
        as its Waybill OCR tab.  The endpoint ``/read_waybill`` takes an image file and returns a
        status line, the drawn boxes with their text, the lines (text, confidence) and the
        recipient's ``{"name", "phone", "address"}``.
        """
        from paddle_course.common.webui import import_gradio, offline_theme, page_folder, upload_with_samples
        from paddle_course.ocr.samples import sample_images

        gr = import_gradio()
        with gr.Blocks(title="course_ocr", theme=offline_theme(gr), analytics_enabled=False) as app:
            gr.Markdown("### Waybill OCR (course 3.2, 快递单识别)\nUpload a photo of a waybill or click a sample. "
                        "PP-OCRv4 finds the text boxes and reads each line; a trained labeller (BiGRU-CRF) then "
                        "picks out the recipient's name, phone and address, and a few rules fill in what it "
                        "misses.")
            with gr.Row():
                with gr.Column(scale=2):
                    upload, picked = upload_with_samples(gr, sample_images(page_folder("course_ocr")),
                                                         "Upload a waybill", "ocr")
                    read = gr.Button("Read", variant="primary", elem_id="ocr-read")
                with gr.Column(scale=3):
                    status = gr.Markdown(elem_id="ocr-status")
                    fields = gr.JSON(label="Recipient (name, phone, address)", elem_id="ocr-fields")
            drawn = gr.Image(label="Text boxes and what was read", type="numpy", interactive=False,
                             elem_id="ocr-image")
            # JSON, not a Dataframe: Gradio's table sometimes drew only its first row (measured while the
            # rows arrived); a JSON view always shows every line
            lines = gr.JSON(label="Recognised lines, top to bottom (text, confidence)", elem_id="ocr-lines")
            outputs = [status, drawn, lines, fields]
            read.click(self._read_page, upload, outputs, api_name="read_waybill")
            picked.then(self._read_page, upload, outputs, api_name=False)
        return app

    def _read_page(self, path):
        """The page's handler: ``(status, drawn RGB image, line rows, fields)``; a bad upload is a status line."""
        from paddle_course.common.webui import UploadProblem, bgr_to_rgb, done, problem, read_uploaded_image
        from paddle_course.ocr.draw import draw_result
        from paddle_course.ocr.waybill import extract_lines

        try:
            image = read_uploaded_image(path)
        except UploadProblem as exc:
            return problem(str(exc)), None, None, None
        found = self.recognize_text(images=[image])[0]["data"]
        texts = [line["text"] for line in found]
        fields = extract_lines([texts])[0]  # what `paddle-course ocr waybill` does: the labeller, then the rules
        missing = [key for key, value in fields.items() if value is None]
        message = f"{len(found)} line(s) read"
        message += f"; not found: {', '.join(missing)}" if missing else "; name, phone and address found"
        rows = [{"text": line["text"], "confidence": round(line["confidence"], 3)} for line in found]
        return done(message), bgr_to_rgb(draw_result(image, found)), rows, fields

    @runnable
    def run_cmd(self, argvs):
        """``hub run course_ocr --input_path IMAGE``."""
        self.parser = argparse.ArgumentParser(
            description=f"Run the {self.name} module.", prog=f"hub run {self.name}", usage="%(prog)s", add_help=True)
        self.arg_input_group = self.parser.add_argument_group(title="Input options", description="Input data. Required")
        self.arg_config_group = self.parser.add_argument_group(
            title="Config options", description="Run configuration for controlling module behavior, not required.")
        self.add_module_config_arg()
        self.add_module_input_arg()
        args = self.parser.parse_args(argvs)
        return self.recognize_text(paths=[args.input_path], output_dir=args.output_dir,
                                   visualization=args.visualization, box_thresh=args.box_thresh,
                                   text_thresh=args.text_thresh,
                                   angle_classification_thresh=args.angle_classification_thresh)

    def add_module_config_arg(self):
        group = self.arg_config_group
        group.add_argument("--output_dir", type=str, default="ocr_result", help="where annotated images go")
        group.add_argument("--visualization", action="store_true", help="save annotated images")
        group.add_argument("--box_thresh", type=float, default=0.5, help="detection box threshold")
        group.add_argument("--text_thresh", type=float, default=0.5, help="recognition confidence threshold")
        group.add_argument("--angle_classification_thresh", type=float, default=0.9,
                           help="confidence needed to turn a crop upside down")

    def add_module_input_arg(self):
        self.arg_input_group.add_argument("--input_path", type=str, required=True, help="an image file")
