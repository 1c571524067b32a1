"""course_pedestrian: pedestrian detection, shaped like PaddleHub's yolov3 pedestrian module (course 3.2).

Three detectors behind one interface (``detector=`` when loading the module):

- ``"photo"`` (default): SSDLite-MobileNetV2, a person detector for real photographs,
  converted into the course's own Paddle Layer
  (``assets/ssdlite_mobilenet_v2_person.safetensors``, MIT; see README.md);
- ``"hog"``: OpenCV's pretrained HOG + linear SVM people detector, the classic
  baseline, which ships inside opencv-python;
- ``"paddle"``: the course's small CenterNet-style Paddle network, trained on the
  course's synthetic VOC data (``assets/pedestrian_centernet.safetensors``) or on
  your own data with ``paddle-course finetune pedestrian`` (``checkpoint=``).
"""
import argparse
import ast
import os

import paddle
from paddlehub.module.module import moduleinfo, runnable, serving

from paddle_course.common.images import check_image, encode_base64_image, read_image
from paddle_course.common.untrusted_images import decode_base64_image
from paddle_course.detection.detectors import DEFAULT_DETECTOR, DETECTORS, load_detector
from paddle_course.detection.draw import draw_detections
from paddle_course.detection.predict import WEAK_SCORE, detect_images



@moduleinfo(
    name="course_pedestrian",
    version="1.1.0",
    summary="Pedestrian detection: SSDLite-MobileNetV2 for real photos (default), OpenCV HOG+SVM (classic "
            "baseline) or a small Paddle CenterNet trained by paddle_course; fine-tunable with hub.Trainer.",
    author="paddle_course",
    author_email="",
    type="cv/object_detection",
)
class CoursePedestrian(paddle.nn.Layer):
    # A paddle.nn.Layer, so PaddleHub runs the methods in dynamic-graph mode.

    # ``paddle-course serve`` may answer the images of concurrent requests in one call (micro-batching)
    # and split the list it returns: each image is detected on its own.
    serving_batch = {"items": "images"}

    def __init__(self, detector=DEFAULT_DETECTOR, checkpoint=None):
        """``detector``: one of "photo" (default), "hog", "paddle"; ``checkpoint``: Paddle weights
        (a ``.safetensors`` file, a ``.pdparams`` read without running code, or a
        ``paddle-course finetune pedestrian`` output folder),
        default the shipped ones in ``assets/``."""
        # moduleinfo rebuilds this class, so a bare super() would point at the old one
        paddle.nn.Layer.__init__(self)
        self._use_detector(detector, checkpoint)

    def _use_detector(self, detector, checkpoint):
        shipped = {"paddle": "pedestrian_centernet.safetensors", "photo": "ssdlite_mobilenet_v2_person.safetensors"}
        if detector in shipped and checkpoint is None:  # this module's own assets, wherever it is installed
            checkpoint = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", shipped[detector])
        self.detector_name = detector
        self.detector = load_detector(detector, checkpoint)

    def object_detection(self, images=None, paths=None, score_thresh=0.5, visualization=False,
                         output_dir="detection_result", batch_size=1):
        """Detect pedestrians in images.

        Args:
            images (list[numpy.ndarray]): images as cv2.imread returns them (BGR, [H, W, 3], uint8).
            paths (list[str]): image files; used when ``images`` is None.
            score_thresh (float): keep detections whose confidence is at least this.
            visualization (bool): save each image with its boxes drawn into ``output_dir``.
            output_dir (str): where the drawn images go.
            batch_size (int): accepted for PaddleHub compatibility; images are processed one by one.

        Returns:
            list[dict], one per input image, in order, with
                data (list[dict]): one per detection, with
                    label (str): always "pedestrian";
                    confidence (float): in (0, 1); for "photo" the network's sigmoid person
                        score, for "hog" sigmoid(2 * SVM margin), for "paddle" the heat-map peak;
                    left, top, right, bottom (float): box corners in pixels of the input image;
                save_path (str): the drawn image's path if ``visualization``, else "".
        """
        if images is None and paths is None:
            raise ValueError("give images= (a list of BGR arrays) or paths= (a list of image files)")
        if images is not None:
            if not isinstance(images, (list, tuple)) or len(images) == 0:
                raise ValueError("images must be a non-empty list of BGR arrays")
            arrays = [check_image(image, f"images[{i}]") for i, image in enumerate(images)]
            names = [f"image_{i}" for i in range(len(arrays))]
        else:
            if isinstance(paths, (str, os.PathLike)) or not paths:
                raise ValueError("paths must be a non-empty list of image files")
            arrays = [read_image(path) for path in paths]
            names = [str(path) for path in paths]
        if not 0.0 <= float(score_thresh) <= 1.0:
            raise ValueError(f"score_thresh must be in [0, 1], got {score_thresh}")
        return detect_images(self.detector, arrays, names, float(score_thresh), visualization, output_dir)

    @serving
    def serving_method(self, images, score_thresh=0.5, visualization=False, batch_size=1):
        """``hub serving``: ``{"images": [base64 image file, ...], "score_thresh": 0.5, "visualization": false}``.

        Returns what ``object_detection`` returns.  Nothing in a request names a file: with
        ``visualization`` each result carries the image with its boxes drawn, a base64 JPEG, as
        ``visualized_image`` (``save_path`` stays ""), and no file is written.  Image sizes are
        read from the file headers before decoding.  Bad input raises ValueError naming the entry.
        """
        if not isinstance(images, list) or len(images) == 0:
            raise ValueError("request body: 'images' must be a non-empty list of base64-encoded images")
        if not isinstance(visualization, bool):
            raise ValueError(f"visualization must be true or false, got {visualization!r}")
        arrays = [decode_base64_image(text, f"images[{i}]") for i, text in enumerate(images)]
        results = self.object_detection(images=arrays, score_thresh=score_thresh, batch_size=batch_size)
        if visualization:
            for image, result in zip(arrays, results):
                result["visualized_image"] = encode_base64_image(draw_detections(image, result["data"]), ".jpg")
        return results

    def create_gradio_app(self):
        """The module's web page (PaddleHub's convention): a photo in, boxes with their scores and the JSON out.

        Returns a ``gradio.Blocks``; ``.launch()`` serves it alone, ``paddle-course app`` shows it
        as its Pedestrians tab.  The endpoint ``/detect_pedestrians`` takes an image file, the
        detector's name and the score threshold, and returns a status line, the drawn image and
        ``object_detection``'s result for that image.
        """
        from paddle_course.common.webui import import_gradio, offline_theme, page_folder, upload_with_samples
        from paddle_course.detection.samples import sample_images

        gr = import_gradio()
        detectors = {self.detector_name: self.detector}  # loaded once per page, shared read-only by its visitors
        with gr.Blocks(title="course_pedestrian", theme=offline_theme(gr), analytics_enabled=False) as app:
            gr.Markdown("### Pedestrian detection (course 3.2)\nUpload a photo or click a sample. **photo** is "
                        "an SSDLite-MobileNetV2 person detector for real photographs; **hog** is OpenCV's classic "
                        "people detector; **paddle** is the course's small CenterNet, trained from scratch on "
                        "drawn street scenes like the last samples.")
            with gr.Row():
                with gr.Column(scale=2):
                    upload, picked = upload_with_samples(gr, sample_images(page_folder("course_pedestrian")),
                                                         "Upload a photo", "pedestrian")
                    detector = gr.Radio(list(DETECTORS), value=self.detector_name, label="Detector",
                                        elem_id="pedestrian-detector")
                    threshold = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="score_thresh",
                                          elem_id="pedestrian-threshold")
                    detect = gr.Button("Detect", variant="primary", elem_id="pedestrian-detect")
                with gr.Column(scale=3):
                    status = gr.Markdown(elem_id="pedestrian-status")
                    drawn = gr.Image(label="Pedestrians found", type="numpy", interactive=False,
                                     elem_id="pedestrian-image")
                    result = gr.JSON(label="object_detection result", elem_id="pedestrian-json")

            def run(path, name, score_thresh):
                return self._detect_page(detectors, path, name, score_thresh)

            outputs = [status, drawn, result]
            detect.click(run, [upload, detector, threshold], outputs, api_name="detect_pedestrians")
            picked.then(run, [upload, detector, threshold], outputs, api_name=False)
        return app

    def _detect_page(self, detectors, path, name, score_thresh):
        """The page's handler: ``(status, drawn RGB image, result)``; a bad upload is a status line."""
        from paddle_course.common.webui import UploadProblem, bgr_to_rgb, done, problem, read_uploaded_image

        try:
            image = read_uploaded_image(path)
        except UploadProblem as exc:
            return problem(str(exc)), None, None
        if name not in DETECTORS:
            return problem(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}"), None, None
        if name not in detectors:
            detectors[name] = load_detector(name)
        score_thresh = float(score_thresh)
        # the weaker boxes are counted, to show what the threshold hides
        found = detect_images(detectors[name], [image], ["upload"], score_thresh, weaker_from=WEAK_SCORE)[0]
        kept = found["data"]
        message = f"{len(kept)} pedestrian(s) with score >= {score_thresh:g} ({name} detector)"
        if found["weaker"]:
            message += (f"; {found['weaker']} weaker box(es) between {min(score_thresh, WEAK_SCORE):g} and "
                        f"{score_thresh:g}: lower score_thresh to see them")
        elif not kept:
            message += "; try another detector"
        result = {key: value for key, value in found.items() if key != "weaker"}  # object_detection's result
        return done(message), bgr_to_rgb(draw_detections(image, kept)), result

    @runnable
    def run_cmd(self, argvs):
        """``hub run course_pedestrian --input_path img.jpg [--score_thresh 0.5] [--visualization True]``."""
        parser = argparse.ArgumentParser(
            description=f"Run the {self.name} module.", prog=f"hub run {self.name}",
            usage="%(prog)s", add_help=True)
        inputs = parser.add_argument_group(title="Input options", description="Input data. Required")
        config = parser.add_argument_group(
            title="Config options", description="Run configuration for controlling module behavior, not required.")
        inputs.add_argument("--input_path", type=str, required=True, help="path to an image")
        config.add_argument("--detector", type=str, default=self.detector_name, choices=DETECTORS,
                            help="photo (SSDLite, real photos), hog (OpenCV HOG+SVM) or paddle (the course's CenterNet)")
        config.add_argument("--checkpoint", type=str, default=None, help="Paddle weights for --detector photo or paddle")
        config.add_argument("--score_thresh", type=float, default=0.5, help="confidence threshold")
        config.add_argument("--visualization", type=ast.literal_eval, default=False,
                            help="whether to save the image with boxes drawn")
        config.add_argument("--output_dir", type=str, default="detection_result",
                            help="where the drawn images are saved")
        args = parser.parse_args(argvs)
        if args.detector != self.detector_name or args.checkpoint:
            self._use_detector(args.detector, args.checkpoint)
        return self.object_detection(paths=[args.input_path], score_thresh=args.score_thresh,
                                     visualization=args.visualization, output_dir=args.output_dir)
