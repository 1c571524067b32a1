"""The page: five tabs, the three PaddleHub modules' own apps among them.

Each hub module offers ``create_gradio_app()`` (PaddleHub's convention: it returns a
``gradio.Blocks``); :func:`build_page` renders each one inside its tab, next to the Boston and
Homework tabs, which are not modules.  The modules are loaded once and shared by every visitor:
their models are only read.  A visitor's runs live in the handlers' own variables, never here.
"""
from types import MappingProxyType

from paddle_course.app.boston import boston_tab
from paddle_course.app.homework import homework_tab
from paddle_course.common.webui import import_gradio, offline_theme, page_figure, page_folder

TITLE = "paddle_course: the PaddlePaddle course in the browser"
#: tab label -> hub module shown in it (the registry's names)
MODULE_TABS = MappingProxyType({"Sentiment": "course_sentiment", "Pedestrians": "course_pedestrian",
                                "Waybill OCR": "course_ocr"})


def load_modules(say=print):
    """The three course modules, loaded the course's way (no PaddleHub usage statistics)."""
    from paddle_course.common.hub import load_module

    modules = {}
    for name in MODULE_TABS.values():
        say(f"loading {name} ...")
        modules[name] = load_module(name)
    return modules


def warm_up_figures():
    """Draw one small figure, so the first loss curve does not wait for matplotlib and its fonts to load."""
    from paddle_course.boston.figures import plot_loss_curves

    page_figure(plot_loss_curves, {"warm-up": [1.0, 0.5]}, None)


def build_page(modules=None, say=print, css=""):
    """The app's ``gradio.Blocks``: Boston, Sentiment, Pedestrians, Waybill OCR, Homework."""
    gr = import_gradio()
    modules = modules or load_modules(say)
    warm_up_figures()
    # made outside the page: a Blocks created inside another renders itself there at once
    module_apps = {label: modules[name].create_gradio_app() for label, name in MODULE_TABS.items()}
    with gr.Blocks(title=TITLE, theme=offline_theme(gr), css=css, analytics_enabled=False) as page:
        gr.Markdown(f"# {TITLE}\nEverything runs on this computer: `paddle-course app`, offline.")
        with gr.Tab("Boston", id="boston"):
            boston_tab(gr)
        for label, name in MODULE_TABS.items():
            with gr.Tab(label, id=name):
                module_apps[label].render()
        with gr.Tab("Homework", id="homework"):
            homework_tab(gr, page_folder("homework"))
    return page
