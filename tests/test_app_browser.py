"""``paddle-course app`` used as a learner uses it: headless Chromium clicks through every tab.

Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``; ``.ci/run``
installs them) driven by Selenium, which is told where both are, so it never downloads a browser.
The browser resolves no name but 127.0.0.1, and every request it makes is recorded: the page
must fetch nothing from another site.

Screenshots of every tab go to a temporary folder, or to ``$PADDLE_COURSE_SCREENSHOTS``
(``PADDLE_COURSE_SCREENSHOTS=docs pytest tests/test_app_browser.py`` refreshes the README's
``docs/app_*.png``), with ``app_timings.json``: page load, and time from "Train" to the first
point of the loss curve.
"""
import json
import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    MISSING = None
except ImportError:
    MISSING = "selenium is not installed (pip install -e '.[test]')"
if MISSING is None and not (CHROMIUM and CHROMEDRIVER):
    MISSING = ("Chromium or its driver is not installed (as root: apt-get install -y chromium chromium-driver); "
               ".ci/run installs them")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]
WAIT = 180  # seconds: a busy two-core laptop trains, classifies and reads slowly


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("PADDLE_COURSE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def app_url():
    from paddle_course.app.page import build_page
    from paddle_course.app.server import font_css, start_in_background
    from paddle_course.app.training import start_forkserver

    start_forkserver()
    running = start_in_background(build_page(say=lambda message: None, css=font_css()))
    yield running.url
    running.stop()


class Page:
    """The browser, with the few moves a learner makes and every URL it requested."""

    def __init__(self, driver, url, shots):
        self.driver, self.url, self.shots = driver, url, shots
        self.requested, self.timings = set(), {}

    def find(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, what, timeout=WAIT):
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda _: condition())
        except Exception as exc:
            self.screenshot("failure_" + what.replace(" ", "_")[:40])
            raise AssertionError(f"waited {timeout} s for {what}; page says: {self.text('body')[:1500]}") from exc

    def text(self, css):
        elements = self.all(css)
        return elements[0].text if elements else ""

    def wait_text(self, css, words, what):
        return self.wait(lambda: any(word in self.text(css) for word in words) and self.text(css), what)

    def tab(self, label):
        button = next(b for b in self.all("button[role=tab]") if b.text.strip() == label)
        button.click()
        self.wait(lambda: button.get_attribute("aria-selected") == "true", f"the {label} tab")

    def type_into(self, css, value):
        """Replace the box's text with ``value`` the way a person does (select all, type, leave the box)."""
        from selenium.webdriver.common.keys import Keys

        for _ in range(3):  # an update the page was still making can land between select-all and typing
            box = self.find(css)
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            if value:
                box.send_keys(str(value))
            box.send_keys(Keys.TAB)  # Gradio takes the value when the box loses focus
            time.sleep(0.3)
            if self.find(css).get_attribute("value") == str(value):
                return
        raise AssertionError(f"{css} holds {self.find(css).get_attribute('value')!r}, not {value!r}")

    def choose(self, elem_id, label, settled=None):
        """Click the radio button ``label``; ``settled()`` says when the page has answered the change."""
        self.find(f"#{elem_id}").find_element("xpath", f".//label[contains(., '{label}')]").click()
        if settled is not None:
            self.wait(settled, f"the page's answer to choosing {label}")

    def upload(self, elem_id, path):
        if not self.all(f"#{elem_id} input[type=file]"):  # a file is there already: clear it first
            self.find(f"#{elem_id} button[aria-label='Clear']").click()
            self.wait(lambda: self.all(f"#{elem_id} input[type=file]"), f"an empty #{elem_id}")
        self.find(f"#{elem_id} input[type=file]").send_keys(str(path))
        # the box shows the name as "stem" + "suffix" once the file is on the server
        self.wait(lambda: Path(path).stem in self.text(f"#{elem_id}"), f"{Path(path).name} uploaded")

    def screenshot(self, name):
        """The whole page, however long, as ``<shots>/app_<name>.png``."""
        width = 1280
        self.pictures_loaded()
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        frame = self.driver.execute_script("return window.outerHeight - window.innerHeight")
        self.driver.set_window_size(width, min(max(height, 700) + frame, 4000))
        time.sleep(0.5)
        path = self.shots / f"app_{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, 900)
        return path

    def pictures_loaded(self, timeout=30):
        """Wait (without failing) until the pictures on show have loaded; hidden tabs' lazy ones never do."""
        from selenium.webdriver.support.ui import WebDriverWait

        script = "return [...document.images].filter(i => i.offsetParent !== null).every(i => i.complete)"
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))
        except Exception:
            pass  # the screenshot then shows what is there

    def collect_requests(self):
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requested.add(message["params"]["request"]["url"])
        return self.requested


@pytest.fixture(scope="module")
def page(app_url, shots, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-extensions", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    downloads = tmp_path_factory.mktemp("downloads")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(WAIT)
    learner = Page(driver, app_url, shots)
    learner.downloads = downloads
    started = time.perf_counter()
    driver.get(app_url)
    learner.wait(lambda: learner.all("#boston-train"), "the page")
    learner.timings["page_load_seconds"] = round(time.perf_counter() - started, 2)
    learner.timings["page_load_event_seconds"] = round(driver.execute_script(
        "const t = performance.timing; return (t.loadEventEnd - t.navigationStart) / 1000"), 2)
    yield learner
    (shots / "app_timings.json").write_text(json.dumps(learner.timings, indent=2) + "\n", encoding="utf-8")
    driver.quit()


def test_boston_streams_the_curve_then_shows_the_table_and_a_diverging_rate_the_lessons_message(page):
    page.tab("Boston")
    page.type_into("#boston-lr input", "5")
    page.type_into("#boston-epochs input", "20")
    page.find("#boston-train").click()
    page.wait_text("#boston-status", ["training diverged", "Problem"], "the divergence message")
    status = page.text("#boston-status")
    assert "training diverged" in status and "Lower the learning rate" in status
    assert "Traceback" not in page.text("body")

    page.choose("boston-impl", "Paddle, dynamic graph",
                settled=lambda: page.find("#boston-epochs input").get_attribute("value") == "300")
    page.type_into("#boston-lr input", "0.05")
    page.type_into("#boston-epochs input", "40")
    clicked = time.perf_counter()
    page.find("#boston-train").click()
    page.wait(lambda: "Training Paddle dynamic SGD b=10" in page.text("#boston-status")
              and "epoch" in page.text("#boston-status") and page.all("#boston-curve img"), "the first curve")
    page.timings["train_to_first_curve_point_seconds_dygraph"] = round(time.perf_counter() - clicked, 2)
    page.wait_text("#boston-status", ["Done:"], "the end of training")
    page.timings["train_to_done_seconds_dygraph_40_epochs"] = round(time.perf_counter() - clicked, 2)
    assert "closed form (lstsq)" in page.text("#boston-table")
    assert "Paddle dynamic SGD b=10" in page.text("#boston-table")
    assert page.all("#boston-predictions img")
    page.screenshot("boston")

    page.choose("boston-impl", "NumPy, mini-batch SGD",
                settled=lambda: page.find("#boston-epochs input").get_attribute("value") == "300")
    page.type_into("#boston-epochs input", "40")
    clicked = time.perf_counter()
    page.find("#boston-train").click()
    page.wait(lambda: "Training NumPy SGD" in page.text("#boston-status") and "epoch" in page.text("#boston-status")
              and page.all("#boston-curve img"), "the NumPy run's first curve")
    page.timings["train_to_first_curve_point_seconds_numpy"] = round(time.perf_counter() - clicked, 2)
    page.wait_text("#boston-status", ["Done:"], "the end of the NumPy run")


def test_sentiment_classifies_each_line_and_labels_the_chart_with_it(page):
    page.tab("Sentiment")
    page.type_into("#sentiment-input textarea", "")
    page.find("#sentiment-classify").click()
    page.wait_text("#sentiment-status", ["Problem"], "the empty-text message")
    assert "empty" in page.text("#sentiment-status")

    reviews = ["这家店的服务很周到，下次还来", "物流太慢了，包装也破了", "宝宝很喜欢，每天都要看"]
    page.type_into("#sentiment-input textarea", "\n".join(reviews))
    page.find("#sentiment-classify").click()
    page.wait_text("#sentiment-status", ["Done:"], "the classification")
    assert "3 review(s)" in page.text("#sentiment-status")
    table = page.text("#sentiment-table")
    assert all(review in table for review in reviews)
    assert "positive" in table or "negative" in table
    assert page.all("#sentiment-chart img")
    page.screenshot("sentiment")


def test_pedestrians_says_what_is_wrong_with_a_bad_upload_and_draws_the_boxes_of_a_good_one(page, tmp_path):
    from paddle_course.detection.samples import sample_images

    page.tab("Pedestrians")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image", encoding="utf-8")
    page.upload("pedestrian-upload", not_an_image)
    page.find("#pedestrian-detect").click()
    page.wait_text("#pedestrian-status", ["Problem"], "the not-an-image message")
    assert "notes.png is not an image" in page.text("#pedestrian-status")

    scene = next(path for path, caption in sample_images(tmp_path) if "drawn scene" in caption)
    page.choose("pedestrian-detector", "paddle")
    page.upload("pedestrian-upload", scene)
    page.find("#pedestrian-detect").click()
    page.wait_text("#pedestrian-status", ["Done:"], "the detection")
    assert "pedestrian(s)" in page.text("#pedestrian-status") and "paddle detector" in page.text("#pedestrian-status")
    assert page.all("#pedestrian-image img")
    assert "confidence" in page.text("#pedestrian-json")

    samples = sample_images(tmp_path)
    if "photo" in samples[0][1]:  # a photograph shipped in data/: the default detector on it, one click
        page.choose("pedestrian-detector", "photo")
        page.all("#pedestrian-samples img")[0].click()
        page.wait(lambda: "photo detector" in page.text("#pedestrian-status"), "the photo's detection")
        assert "Done:" in page.text("#pedestrian-status") and page.all("#pedestrian-image img")
        if "lower score_thresh" in page.text("#pedestrian-status"):  # do what the page suggests
            page.type_into("#pedestrian-threshold input[type=number]", "0.2")
            page.find("#pedestrian-detect").click()
            page.wait(lambda: "score >= 0.2 (photo" in page.text("#pedestrian-status"), "the lower threshold")
    page.screenshot("pedestrians")


def test_waybill_sample_is_read_and_its_recipient_extracted(page):
    from paddle_course.ocr.render import render_waybill
    from paddle_course.ocr.samples import WAYBILL_SEEDS

    page.tab("Waybill OCR")
    page.all("#ocr-samples img")[0].click()  # the first rendered waybill, seed WAYBILL_SEEDS[0]
    page.wait_text("#ocr-status", ["Done:", "Problem"], "the waybill read")
    expected = render_waybill(seed=WAYBILL_SEEDS[0])[2]
    fields = page.text("#ocr-fields")
    assert expected["phone"] in fields and expected["name"] in fields, fields
    # every recognised line is shown (a Gradio table here once drew only its first row: now a JSON view)
    page.wait(lambda: all(line in page.text("#ocr-lines") for line in ("收件人", "电话", "地址")),
              "the recognised lines in the table")
    assert page.all("#ocr-image img")
    page.screenshot("waybill")


def test_homework_offers_the_starter_and_grades_an_upload_like_the_cli(page, tmp_path):
    from homework_mistakes import MISTAKES, write_wrong_solution
    from paddle_course.grading.registry import assignment_folder, load_assignment

    page.tab("Homework")
    page.find("#homework-pick input").click()
    option = page.wait(lambda: [o for o in page.all("ul.options li") if o.text.startswith("hw02")], "hw02 listed")
    option[0].click()
    time.sleep(1)  # the page fetches the new starter's link
    page.find("#homework-download").click()
    starter = page.downloads / "hw02_solution.py"
    page.wait(lambda: starter.is_file() and starter.stat().st_size > 0, "the hw02 starter downloaded")
    shipped = assignment_folder(load_assignment("hw02")[0]) / "starter.py"
    assert starter.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")

    wrong = write_wrong_solution("hw02_no_shuffle", tmp_path)
    page.upload("homework-upload", wrong)
    page.find("#homework-check").click()
    page.wait_text("#homework-report", ["score:", "Problem"], "the grade")
    report = page.text("#homework-report")
    assert "score: " in report and "/10" in report
    assert "[FAIL]" in report and MISTAKES["hw02_no_shuffle"].check in report and "[PASS]" in report
    page.screenshot("homework")


def test_the_page_fetched_nothing_from_another_site(page):
    requested = page.collect_requests()
    assert any(url.startswith(page.url) for url in requested)
    outside = sorted(url for url in requested if not url.startswith(("http://127.0.0.1", "data:", "blob:")))
    assert outside == []
