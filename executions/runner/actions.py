"""One function per action of the step registry, each driving the browser for one step.

An action returns the step's message when it passed and raises StepFailed or StepError
otherwise. Waits poll the page (WebDriverWait) until the step's timeout, never sleep a fixed
time, and re-locate the element when the page replaced it (stale element). Round trips are
kept to what plain Selenium would spend on the same command, because every step pays them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    JavascriptException,
    NoAlertPresentException,
    NoSuchElementException,
    NoSuchFrameException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.alert import Alert
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from executions.runner.outcomes import Evidence, StepError, StepFailed, first_line
from tests_catalog import step_actions
from tests_catalog.browser_targets import browser_target_error, resolved_target_error
from tests_catalog.step_actions import PAUSE_MAX_MS, expectation_parse, key_chord_parse, name_value_split

POLL_INTERVAL_S = 0.05
# Selenium moves the pointer over 250 ms by default; apps see the same events without the wait.
POINTER_MOVE_MS = 0
# Values shown in messages are cut here: a message is a sentence, not a page dump.
SHOWN_TEXT_LIMIT = 200

_BY = {
    "css": By.CSS_SELECTOR,
    "xpath": By.XPATH,
    "id": By.ID,
    "name": By.NAME,
    "link_text": By.LINK_TEXT,
    "partial_link_text": By.PARTIAL_LINK_TEXT,
    "tag": By.TAG_NAME,
}

# Failures worth another try within the step's timeout: the page is still changing.
_RETRYABLE = (
    NoSuchElementException,
    StaleElementReferenceException,
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchFrameException,
    NoAlertPresentException,
)


@dataclass
class StepContext:
    """One step about to run: its fields after substitution, and where it runs."""

    driver: WebDriver
    order_index: int
    selector_type: str
    selector: str
    value: str
    timeout_s: float
    base_url: str
    variables: dict[str, str]
    evidence: list[Evidence] = field(default_factory=list)
    # BROWSER_ALLOWED_HOSTS: when not empty, the only hosts `open` may go to.
    allowed_hosts: tuple[str, ...] = ()
    # How often the page replaced the element under us; reported in the message.
    stale_retries: int = 0
    # Whether the selector ever found an element: a fallback locator is tried only when it never did.
    found: bool = False
    # The step's options (see TestStep.options): loop limits, windows it opens.
    step_options: dict[str, Any] = field(default_factory=dict)

    def locator(self) -> tuple[str, str]:
        if self.selector_type == "text":
            return By.XPATH, text_xpath(self.selector)
        return _BY.get(self.selector_type or "css", By.CSS_SELECTOR), self.selector

    def target(self) -> str:
        return f"{self.selector_type or 'css'} {shown(self.selector)}"

    def find(self) -> WebElement:
        element = self.driver.find_element(*self.locator())
        self.found = True
        return element


def shown(text: str | None) -> str:
    text = "" if text is None else str(text)
    if len(text) > SHOWN_TEXT_LIMIT:
        text = text[:SHOWN_TEXT_LIMIT] + "…"
    return repr(text)


def xpath_literal(text: str) -> str:
    """An XPath 1.0 string literal for any text (XPath has no escape for quotes)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in parts) + ")"


def text_xpath(text: str) -> str:
    """XPath for the `text` selector type; see step_actions.TEXT_SELECTOR_MEANING."""
    literal = xpath_literal(" ".join(text.split()))
    equals = f"normalize-space(.)={literal}"
    contains = f"contains(normalize-space(.),{literal})"
    innermost_equal = f"//body//*[{equals}][not(*[{equals}])]"
    # The last predicate makes the "contains" branch apply only when nothing equals the text;
    # it runs only on the few innermost candidates, so it stays cheap.
    innermost_containing = f"//body//*[{contains}][not(*[{contains}])][not(//body//*[{equals}])]"
    return f"{innermost_equal} | {innermost_containing}"


def _poll(ctx: StepContext, attempt: Callable[[], Any], timed_out: Callable[[Exception | None], str]) -> Any:
    """Call attempt() until it returns something truthy or the step times out.

    Exceptions that mean "the page is still changing" are retried; timed_out(last such
    exception) then words the failure. Anything else (a dead browser, a bad selector)
    propagates at once.
    """
    last: list[Exception] = []

    def once(_driver: WebDriver) -> Any:
        try:
            return attempt()
        except StaleElementReferenceException as error:
            ctx.stale_retries += 1
            last[:] = [error]
        except _RETRYABLE as error:
            last[:] = [error]
        return False

    try:
        return WebDriverWait(ctx.driver, ctx.timeout_s, poll_frequency=POLL_INTERVAL_S).until(once)
    except TimeoutException:
        raise StepFailed(timed_out(last[0] if last else None)) from None


def _within(ctx: StepContext) -> str:
    return f"within {ctx.timeout_s:g} s"


def _not_found(ctx: StepContext, error: Exception | None) -> str:
    if isinstance(error, StaleElementReferenceException):
        return f"{ctx.target()} kept being replaced by the page; it never held still {_within(ctx)}"
    return f"no element matches {ctx.target()} {_within(ctx)}"


def _element(ctx: StepContext) -> WebElement:
    return _poll(ctx, ctx.find, lambda error: _not_found(ctx, error))


_COVERING_ELEMENT = re.compile(r"Other element would receive the click: <(\w+)([^>]*)>")
_ATTRIBUTE = re.compile(r'\b(id|class)="([^"]*)"')

_ELEMENT_AT_CENTRE_JS = """
const box = arguments[0].getBoundingClientRect();
const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
if (!top) return '';
return top.tagName.toLowerCase() + (top.id ? '#' + top.id : '') +
    Array.from(top.classList).map(c => '.' + c).join('');
"""


def covering_element(error: ElementClickInterceptedException, ctx: StepContext) -> str:
    """tag#id.class of what took the click, from chromedriver's message or from the page."""
    match = _COVERING_ELEMENT.search(error.msg or "")
    if match:
        attributes = dict(_ATTRIBUTE.findall(match.group(2)))
        name = match.group(1).lower()
        if attributes.get("id"):
            name += "#" + attributes["id"]
        name += "".join("." + css_class for css_class in attributes.get("class", "").split())
        return name
    try:
        return ctx.driver.execute_script(_ELEMENT_AT_CENTRE_JS, ctx.find()) or "another element"
    except Exception:
        return "another element"


def _clickable_then(
    ctx: StepContext, verb: str, act: Callable[[WebElement], object], *, driver_checks_visibility: bool = False
) -> str:
    """Wait until the element is visible and enabled, then act on it; retry while covered.

    With driver_checks_visibility, WebDriver's own click refuses a hidden element (and we retry),
    so the visibility round trip is made only to word a failure, not before every click.
    """
    seen = {"state": ""}

    def attempt() -> bool:
        element = ctx.find()
        if not driver_checks_visibility and not element.is_displayed():
            seen["state"] = "hidden"
            return False
        if not element.is_enabled():
            seen["state"] = "disabled"
            return False
        act(element)
        return True

    def timed_out(error: Exception | None) -> str:
        if isinstance(error, ElementClickInterceptedException):
            return f"{verb} on {ctx.target()} was intercepted by {covering_element(error, ctx)} {_within(ctx)}"
        if isinstance(error, ElementNotInteractableException):
            if driver_checks_visibility and _hidden_now(ctx):
                return f"{ctx.target()} stayed hidden {_within(ctx)}"
            return f"{ctx.target()} could not be interacted with {_within(ctx)}: {first_line(error.msg)}"
        if seen["state"] and not isinstance(error, NoSuchElementException):
            return f"{ctx.target()} stayed {seen['state']} {_within(ctx)}"
        return _not_found(ctx, error)

    _poll(ctx, attempt, timed_out)
    return f"{verb} {ctx.target()}"


def _hidden_now(ctx: StepContext) -> bool:
    try:
        return not ctx.find().is_displayed()
    except Exception:
        return False


# Navigation


def open_url(ctx: StepContext) -> str:
    url = url_resolve(ctx.value, ctx.base_url)
    # Checked here, after substitution, whatever was validated when the step was saved.
    refused = browser_target_error(url, allowed_hosts=ctx.allowed_hosts) or resolved_target_error(url)
    if refused:
        raise StepError(f"refused to open {url}: {refused}")
    try:
        ctx.driver.get(url)
    except TimeoutException as error:
        raise StepFailed(f"{url} did not finish loading: {first_line(error.msg)}") from None
    except WebDriverException as error:
        # net::ERR_CONNECTION_REFUSED and friends: the site is not there, so the test cannot run.
        network_error = re.search(r"net::ERR_\w+", error.msg or "")
        if network_error is None:
            raise
        raise StepError(f"could not load {url}: {network_error.group(0)}") from None
    # Chromium shows its own error page instead of failing the navigation; one round trip
    # tells us, and "site unreachable" then reads as such rather than as a missing element.
    error_code = ctx.driver.execute_script(_ERROR_PAGE_JS)
    if error_code:
        raise StepError(f"could not load {url}: {error_code}")
    return f"opened {url}"


_ERROR_PAGE_JS = """
if (!document.documentURI.startsWith('chrome-error:')) return '';
const code = document.querySelector('.error-code');
return (code && code.textContent.trim()) || 'the browser showed its error page';
"""


def url_resolve(value: str, base_url: str) -> str:
    """Absolute URLs are used as they are; anything else is appended to the base URL.

    Appended, not urljoin'ed: with base http://host/app, QA expect /login to mean
    http://host/app/login, the way test tools with a base URL behave.
    """
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
        return value
    if not base_url:
        raise StepError(f"{value!r} is a relative URL but the environment has no base URL")
    return base_url.rstrip("/") + "/" + value.lstrip("/")


def refresh(ctx: StepContext) -> str:
    ctx.driver.refresh()
    return "refreshed the page"


def back(ctx: StepContext) -> str:
    ctx.driver.back()
    return "went back"


# Interaction


def click(ctx: StepContext) -> str:
    return _clickable_then(ctx, "clicked", lambda element: element.click(), driver_checks_visibility=True)


def double_click(ctx: StepContext) -> str:
    pointer = ActionChains(ctx.driver, duration=POINTER_MOVE_MS)
    return _clickable_then(ctx, "double-clicked", lambda element: pointer.double_click(element).perform())


def hover(ctx: StepContext) -> str:
    def attempt() -> bool:
        element = ctx.find()
        if not element.is_displayed():
            return False
        ActionChains(ctx.driver, duration=POINTER_MOVE_MS).move_to_element(element).perform()
        return True

    _poll(ctx, attempt, lambda error: _hidden_or_missing(ctx, error))
    return f"hovered over {ctx.target()}"


def _hidden_or_missing(ctx: StepContext, error: Exception | None) -> str:
    if error is None:
        return f"{ctx.target()} stayed hidden {_within(ctx)}"
    return _not_found(ctx, error)


def type_text(ctx: StepContext) -> str:
    # Select-all then typing replaces the content the way a user does. WebDriver clear()
    # would blur the field first, and apps that save on blur would act before we typed.
    # NULL releases CONTROL so the text is typed plainly; one command does it all.
    replacement = ctx.value if ctx.value else Keys.BACKSPACE

    def attempt() -> bool:
        ctx.find().send_keys(Keys.CONTROL, "a", Keys.NULL, replacement)
        return True

    def timed_out(error: Exception | None) -> str:
        if isinstance(error, ElementNotInteractableException):
            return f"could not type into {ctx.target()} {_within(ctx)}: {first_line(error.msg)}"
        return _not_found(ctx, error)

    _poll(ctx, attempt, timed_out)
    return f"typed {shown(ctx.value)} into {ctx.target()}"


def clear(ctx: StepContext) -> str:
    def attempt() -> bool:
        ctx.find().clear()
        return True

    _poll(ctx, attempt, lambda error: _not_found(ctx, error))
    return f"cleared {ctx.target()}"


def press_key(ctx: StepContext) -> str:
    chord = key_chord_parse(ctx.value)
    if chord is None:
        raise StepError(f"unknown key {ctx.value!r}")
    modifiers, key = chord
    modifier_keys = [getattr(Keys, name) for name in modifiers]
    key_to_press = getattr(Keys, key) if key in step_actions.KEY_NAMES else key
    if ctx.selector:

        def attempt() -> bool:
            ctx.find().send_keys(*modifier_keys, key_to_press)
            return True

        _poll(ctx, attempt, lambda error: _not_found(ctx, error))
        return f"pressed {ctx.value} in {ctx.target()}"
    actions = ActionChains(ctx.driver, duration=POINTER_MOVE_MS)
    for modifier in modifier_keys:
        actions.key_down(modifier)
    actions.send_keys(key_to_press)
    for modifier in reversed(modifier_keys):
        actions.key_up(modifier)
    actions.perform()
    return f"pressed {ctx.value}"


def option_xpath(option_locator: str) -> tuple[str, str, str]:
    """(xpath, kind, wanted) of an option locator: visible text, label=, value=, index= or id=."""
    kind, sep, rest = option_locator.partition("=")
    if not sep or kind not in ("label", "value", "index", "id"):
        kind, rest = "text", option_locator
    if kind == "index":
        if not rest.strip().isdigit():
            raise StepError(f"index= takes a whole number, got {rest!r}")
        return f"(.//option)[{int(rest) + 1}]", kind, rest
    wanted = " ".join(rest.split()) if kind in ("text", "label") else rest
    literal = xpath_literal(wanted)
    match = {"value": f"@value={literal}", "id": f"@id={literal}"}.get(kind, f"normalize-space(.)={literal}")
    return f".//option[{match}]", kind, wanted


def select(ctx: StepContext) -> str:
    xpath, kind, wanted = option_xpath(ctx.value)
    # Disabled options cannot be chosen by a user; waiting for them to become enabled is right.
    option_xpath_enabled = f"{xpath}[not(@disabled)]"

    def attempt() -> bool:
        option = ctx.find().find_element(By.XPATH, option_xpath_enabled)
        # Clicking a selected option of a multi-select would deselect it.
        if not option.is_selected():
            option.click()
        return True

    def timed_out(error: Exception | None) -> str:
        try:
            options = ctx.driver.execute_script(
                "return Array.from(arguments[0].options).map(o => o.disabled ? o.text + ' (disabled)' : o.text)",
                ctx.find(),
            )
        except Exception:
            return _not_found(ctx, error)
        return f"{ctx.target()} has no enabled option with {kind} {shown(wanted)}; options: {options}"

    _poll(ctx, attempt, timed_out)
    return f"selected {shown(ctx.value)} in {ctx.target()}"


_LABEL_JS = """
const input = arguments[0];
return (input.id && document.querySelector('label[for="' + CSS.escape(input.id) + '"]'))
    || input.closest('label');
"""


def _checked_state_set(ctx: StepContext, wanted: bool) -> str:
    verb = "checked" if wanted else "unchecked"
    clicked: dict[str, str | None] = {"how": None}

    def attempt() -> str:
        box = ctx.find()
        if box.is_selected() == wanted:
            if clicked["how"] is not None:  # our click landed, then the page re-rendered the box
                return f"{verb} {ctx.target()}{clicked['how']}"
            return f"{ctx.target()} was already {verb}"
        # Custom-styled boxes hide the <input> (zero size, display:none) or cover it with
        # a styled sibling; a user then clicks the label, so we do too before resorting to JS.
        way = ""
        try:
            box.click()
        except (ElementNotInteractableException, ElementClickInterceptedException):
            way = " via label"
            label = ctx.driver.execute_script(_LABEL_JS, box)
            try:
                if label is None:
                    raise ElementNotInteractableException("no label")
                label.click()
            except (ElementNotInteractableException, ElementClickInterceptedException):
                way = " via script click"
                ctx.driver.execute_script("arguments[0].click()", box)
        clicked["how"] = way
        if box.is_selected() != wanted:
            raise StepFailed(f"{ctx.target()} did not become {verb} when clicked{way}")
        return f"{verb} {ctx.target()}{way}"

    return _poll(ctx, attempt, lambda error: _not_found(ctx, error))


def check(ctx: StepContext) -> str:
    return _checked_state_set(ctx, True)


def uncheck(ctx: StepContext) -> str:
    return _checked_state_set(ctx, False)


def scroll_into_view(ctx: StepContext) -> str:
    def attempt() -> bool:
        ctx.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", ctx.find())
        return True

    _poll(ctx, attempt, lambda error: _not_found(ctx, error))
    return f"scrolled {ctx.target()} into view"


# Frames, windows, dialogs


def switch_frame(ctx: StepContext) -> str:
    if not ctx.selector and ctx.value == "parent":
        ctx.driver.switch_to.parent_frame()
        return "switched to the parent frame"
    if not ctx.selector and ctx.value.startswith("index="):
        index = int(ctx.value[len("index=") :])

        def by_index() -> bool:
            ctx.driver.switch_to.frame(index)
            return True

        _poll(ctx, by_index, lambda _: f"no frame {index} {_within(ctx)}")
        return f"switched into frame {index}"
    if not ctx.selector:
        ctx.driver.switch_to.default_content()
        return "switched to the top-level document"

    def attempt() -> bool:
        ctx.driver.switch_to.frame(ctx.find())
        return True

    _poll(ctx, attempt, lambda error: _not_found(ctx, error))
    return f"switched into frame {ctx.target()}"


def switch_window(ctx: StepContext) -> str:
    wanted = ctx.value.strip()
    driver = ctx.driver
    seen_titles: list[str] = []
    if wanted.startswith("handle="):
        handle = wanted[len("handle=") :]

        def by_handle() -> bool:
            driver.switch_to.window(handle)
            return True

        _poll(ctx, by_handle, lambda _: f"no window with handle {shown(handle)} {_within(ctx)}")
        return f"switched to window {shown(handle)}"
    if wanted.isdigit():
        index = int(wanted)

        def by_index() -> bool:
            handles = driver.window_handles
            if len(handles) <= index:
                seen_titles[:] = [str(len(handles))]
                return False
            driver.switch_to.window(handles[index])
            return True

        _poll(ctx, by_index, lambda _: f"no window {index}: {seen_titles[0]} window(s) open {_within(ctx)}")
        return f"switched to window {index}"

    original = driver.current_window_handle

    def by_title() -> bool:
        seen_titles.clear()
        for handle in driver.window_handles:
            driver.switch_to.window(handle)
            title = driver.title
            if title == wanted:
                return True
            seen_titles.append(title)
        driver.switch_to.window(original)
        return False

    _poll(ctx, by_title, lambda _: f"no window titled {shown(wanted)} {_within(ctx)}; titles: {seen_titles}")
    return f"switched to window {shown(wanted)}"


def _alert_answer(ctx: StepContext, accept: bool) -> str:
    def attempt() -> str:
        alert = Alert(ctx.driver)
        text = alert.text  # raises NoAlertPresentException until the alert opens
        alert.accept() if accept else alert.dismiss()
        return f"{'accepted' if accept else 'dismissed'} alert {shown(text)}"

    return _poll(ctx, attempt, lambda _: f"no alert opened {_within(ctx)}")


def accept_alert(ctx: StepContext) -> str:
    return _alert_answer(ctx, True)


def dismiss_alert(ctx: StepContext) -> str:
    return _alert_answer(ctx, False)


# Waits


def wait_for_visible(ctx: StepContext) -> str:
    _poll(ctx, lambda: ctx.find().is_displayed(), lambda error: _hidden_or_missing(ctx, error))
    return f"{ctx.target()} is visible"


def wait_for_hidden(ctx: StepContext) -> str:
    def attempt() -> str:
        found = ctx.driver.find_elements(*ctx.locator())
        if not found:
            return "gone"
        return "" if found[0].is_displayed() else "hidden"

    state = _poll(ctx, attempt, lambda _: f"{ctx.target()} stayed visible {_within(ctx)}")
    return f"{ctx.target()} is {state}"


def wait_for_text(ctx: StepContext) -> str:
    seen = {"text": None}

    def attempt() -> bool:
        seen["text"] = ctx.find().text
        return ctx.value in seen["text"]

    def timed_out(error: Exception | None) -> str:
        if seen["text"] is None:
            return _not_found(ctx, error)
        return f"text of {ctx.target()} was {shown(seen['text'])}, never containing {shown(ctx.value)} {_within(ctx)}"

    _poll(ctx, attempt, timed_out)
    return f"{ctx.target()} contains {shown(ctx.value)}"


def wait_for_url(ctx: StepContext) -> str:
    seen = {"url": ""}
    wanted = url_resolve(ctx.value, ctx.base_url) if ctx.value.startswith("/") and ctx.base_url else ctx.value

    def attempt() -> bool:
        seen["url"] = ctx.driver.current_url
        return wanted in seen["url"]

    _poll(ctx, attempt, lambda _: f"URL was {shown(seen['url'])}, never containing {shown(ctx.value)} {_within(ctx)}")
    return f"URL contains {shown(ctx.value)}"


def pause(ctx: StepContext) -> str:
    if not ctx.value.strip().isdigit():
        raise StepError(f"pause needs whole milliseconds, got {ctx.value!r}")
    milliseconds = min(int(ctx.value), PAUSE_MAX_MS)
    time.sleep(milliseconds / 1000)  # the one deliberate fixed wait: QA asked for it
    return f"paused {milliseconds} ms"


# Assertions. They retry until the step timeout, so a page that is still updating passes
# as soon as it is right; the failure message reports the last value seen.


def _expect(ctx: StepContext, subject: str, read: Callable[[], str | None], expected_text: str) -> str:
    expectation = expectation_parse(expected_text)
    seen: dict[str, str | None] = {}

    def attempt() -> bool:
        seen["actual"] = read()
        return seen["actual"] is not None and expectation.matches(seen["actual"])

    def timed_out(error: Exception | None) -> str:
        if "actual" not in seen:
            return _not_found(ctx, error)
        if seen["actual"] is None:
            return f"{subject} is missing; expected {expectation.describe()}"
        return f"{subject} was {shown(seen['actual'])}, expected {expectation.describe()}"

    _poll(ctx, attempt, timed_out)
    return f"{subject} is {expectation.describe()}"


def assert_text(ctx: StepContext) -> str:
    return _expect(ctx, f"text of {ctx.target()}", lambda: ctx.find().text, ctx.value)


def assert_title(ctx: StepContext) -> str:
    return _expect(ctx, "page title", lambda: ctx.driver.title, ctx.value)


def assert_url(ctx: StepContext) -> str:
    expected = ctx.value
    exact = expectation_parse(expected)
    relative = not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", exact.expected)
    if exact.mode == "equals" and relative and ctx.base_url:
        # The same forms as open: an exact URL may be written relative to the base URL.
        expected = "equals:" + url_resolve(exact.expected, ctx.base_url)
    return _expect(ctx, "URL", lambda: ctx.driver.current_url, expected)


def assert_value(ctx: StepContext) -> str:
    return _expect(ctx, f"value of {ctx.target()}", lambda: text_of(ctx.find().get_property("value")), ctx.value)


def assert_attribute(ctx: StepContext) -> str:
    pair = name_value_split(ctx.value)
    if pair is None or not pair[0]:
        raise StepError(f"assert_attribute needs name=expected, got {ctx.value!r}")
    name, expected = pair
    return _expect(ctx, f"attribute {name!r} of {ctx.target()}", lambda: ctx.find().get_attribute(name), expected)


def assert_element_present(ctx: StepContext) -> str:
    _element(ctx)
    return f"{ctx.target()} is present"


def assert_element_absent(ctx: StepContext) -> str:
    seen = {"count": 0}

    def attempt() -> bool:
        seen["count"] = len(ctx.driver.find_elements(*ctx.locator()))
        return seen["count"] == 0

    _poll(ctx, attempt, lambda _: f"{ctx.target()} is still present ({seen['count']} found) {_within(ctx)}")
    return f"{ctx.target()} is absent"


def assert_visible(ctx: StepContext) -> str:
    _poll(ctx, lambda: ctx.find().is_displayed(), lambda error: _hidden_or_missing(ctx, error))
    return f"{ctx.target()} is visible"


def assert_count(ctx: StepContext) -> str:
    if not ctx.value.strip().isdigit():
        raise StepError(f"assert_count needs a whole number, got {ctx.value!r}")
    expected = int(ctx.value)
    seen = {"count": 0}

    def attempt() -> bool:
        seen["count"] = len(ctx.driver.find_elements(*ctx.locator()))
        return seen["count"] == expected

    _poll(ctx, attempt, lambda _: f"{ctx.target()} matched {seen['count']} element(s), expected {expected}")
    return f"{ctx.target()} matched {expected} element(s)"


# Variables


def _stored(ctx: StepContext, name: str, value: Any) -> str:
    # Kept as the page gave it (numbers, arrays, objects), the way Selenium IDE keeps variables:
    # for_each needs the array, a condition compares the number. Texts are made when substituted.
    ctx.variables[name] = value
    return f"stored {shown(text_of(value))} in ${{{name}}}"


def store_text(ctx: StepContext) -> str:
    return _stored(ctx, ctx.value.strip(), _element(ctx).text)


def store_value(ctx: StepContext) -> str:
    return _stored(ctx, ctx.value.strip(), text_of(_element(ctx).get_property("value")))


def store_attribute(ctx: StepContext) -> str:
    pair = name_value_split(ctx.value)
    if pair is None or not pair[0]:
        raise StepError(f"store_attribute needs attribute=variable, got {ctx.value!r}")
    attribute, variable = pair[0], pair[1].strip()
    found = _poll(ctx, lambda: (ctx.find().get_attribute(attribute),), lambda error: _not_found(ctx, error))[0]
    if found is None:
        raise StepFailed(f"{ctx.target()} has no attribute {attribute!r}")
    return _stored(ctx, variable, found)


def set_variable(ctx: StepContext) -> str:
    pair = name_value_split(ctx.value)
    if pair is None:
        raise StepError(f"set_variable needs name=value, got {ctx.value!r}")
    return _stored(ctx, pair[0], pair[1])


def text_of(result: object) -> str:
    """How a value from the page is kept in a text variable."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, int | float):
        return str(result)
    try:
        return json.dumps(result)
    except TypeError:
        return str(result)


# Utility


def execute_script(ctx: StepContext) -> str:
    try:
        result = ctx.driver.execute_script(ctx.value)
    except JavascriptException as error:
        raise StepFailed(f"script threw: {first_line(error.msg)}") from None
    if ctx.selector:
        return _stored(ctx, ctx.selector.strip(), result)
    return f"script returned {shown(text_of(result))}" if result is not None else "script ran"


def screenshot(ctx: StepContext) -> str:
    label = re.sub(r"[^A-Za-z0-9_-]+", "-", ctx.value).strip("-")[:60]
    filename = f"step-{ctx.order_index}-{label or 'screenshot'}.png"
    ctx.evidence.append(Evidence("screenshot", filename, "image/png", ctx.driver.get_screenshot_as_png()))
    return f"saved screenshot {filename}"


def echo(ctx: StepContext) -> str:
    return ctx.value


from executions.runner.more_actions import MORE_RUNNER_ACTIONS  # noqa: E402 - they build on the above

RUNNER_ACTIONS: dict[str, Callable[[StepContext], str]] = {
    "open": open_url,
    "refresh": refresh,
    "back": back,
    "click": click,
    "double_click": double_click,
    "type": type_text,
    "clear": clear,
    "press_key": press_key,
    "select": select,
    "check": check,
    "uncheck": uncheck,
    "hover": hover,
    "scroll_into_view": scroll_into_view,
    "switch_frame": switch_frame,
    "switch_window": switch_window,
    "accept_alert": accept_alert,
    "dismiss_alert": dismiss_alert,
    "wait_for_visible": wait_for_visible,
    "wait_for_hidden": wait_for_hidden,
    "wait_for_text": wait_for_text,
    "wait_for_url": wait_for_url,
    "pause": pause,
    "assert_text": assert_text,
    "assert_title": assert_title,
    "assert_url": assert_url,
    "assert_element_present": assert_element_present,
    "assert_element_absent": assert_element_absent,
    "assert_visible": assert_visible,
    "assert_value": assert_value,
    "assert_attribute": assert_attribute,
    "assert_count": assert_count,
    "store_text": store_text,
    "store_value": store_value,
    "store_attribute": store_attribute,
    "set_variable": set_variable,
    "execute_script": execute_script,
    "screenshot": screenshot,
    "echo": echo,
    **MORE_RUNNER_ACTIONS,
}
