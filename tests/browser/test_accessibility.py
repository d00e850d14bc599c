"""The accessibility claims of docs/clients.md, checked on the live consoles.

A sitting is brought to a realistic state over HTTP (in session, a speaker with a running
countdown, another in the queue, a document presented, a named vote open with some
ballots, then a passed and a failed result), and on the chair, delegate, gallery and
operator pages:

* contrast: every visible text (an element with a text node of its own, and the value or
  placeholder of a field) against the colour painted under it, WCAG 2.x AA; again with
  every enabled button and link hovered;
* names: every visible input, select, textarea and button has an accessible name, as
  Chromium's own accessibility tree computes it (not from a placeholder or a title alone);
* targets: on the delegate's tablet every control is at least 48 px, a ballot button 72 px;
* keyboard: on the chair console, Tab alone reaches every enabled visible control, and
  the focused control always shows a focus indicator.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Hub, ms, open_page

pytestmark = pytest.mark.browser

CHAIR, SPEAKER, WAITING = "db01", "db04", "db05"

# In the page, before each function below: what is seen, and a short name for an element.
PRELUDE = r"""
  const seen = (el) => {
    const how = { opacityProperty: true, visibilityProperty: true };
    if (!el.checkVisibility({ ...how, checkOpacity: true, checkVisibilityCSS: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1; // .sr-only text is 1×1 px and clipped: not seen
  };
  const label = (el) => {
    const tid = el.getAttribute("data-testid");
    const text = el.getAttribute("aria-label") || el.textContent || el.value || el.placeholder;
    return `${el.tagName.toLowerCase()}${el.type ? "[type=" + el.type + "]" : ""}`
      + `${tid ? "[data-testid=" + tid + "]" : ""} "${(text || "").trim().slice(0, 40)}"`;
  };
"""


def in_page(args: str, body: str) -> str:
    """A JS function for page.evaluate, with the prelude."""
    return f"({args}) => {{{PRELUDE}{body}}}"


# Every visible text, its colour over its effective background, the contrast ratio.
CONTRAST_JS = in_page(
    "{ rootSelector, within }",
    r"""
  const root = document.querySelector(rootSelector) || document.body;
  const parse = (s) => {
    let m = /^rgba?\(([^)]*)\)$/.exec(s);
    if (m) {
      const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = /^color\(srgb ([^)]*)\)$/.exec(s);
    if (m) {
      const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    return null;
  };
  const channel = (c) => {
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  const lum = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const hex = (c) =>
    "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const describe = (el) => {
    const parts = [];
    for (let n = el, i = 0; n && n !== document.body && i < 4; n = n.parentElement, i++) {
      let s = n.tagName.toLowerCase();
      if (n.id) s += "#" + n.id;
      const tid = n.getAttribute("data-testid");
      if (tid) s += `[data-testid=${tid}]`;
      const cls = (n.getAttribute("class") || "").split(/\s+/).filter(Boolean);
      if (cls.length) s += "." + cls.join(".");
      parts.unshift(s);
    }
    return parts.join(" > ");
  };
  // What is painted at a pixel of `el` with and without its text: the background colours
  // of `el` and its ancestors, each group faded by its opacity, over the white canvas
  // (premultiplied alpha). Background images would not be measured: they are reported.
  const paint = (el, text) => {
    const pre = (c) => [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]];
    const on = (top, under) => top.map((v, i) => v + under[i] * (1 - top[3]));
    let withText = pre(text);
    let without = [0, 0, 0, 0];
    const images = [];
    let opaque = false;
    for (let n = el; n; n = n.parentElement) {
      const cs = getComputedStyle(n);
      if (!opaque && cs.backgroundImage !== "none") images.push(describe(n));
      const bg = parse(cs.backgroundColor) || [0, 0, 0, 0];
      if (bg[3] >= 1) opaque = true;
      const o = parseFloat(cs.opacity);
      withText = on(withText, pre(bg)).map((v) => v * o);
      without = on(without, pre(bg)).map((v) => v * o);
    }
    const white = [255, 255, 255, 1];
    return { fg: on(withText, white), bg: on(without, white), images };
  };
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TITLE", "OPTION", "OPTGROUP"]);
  const NO_TEXT = new Set(["checkbox", "radio", "hidden", "range", "color", "file", "image"]);
  const failures = [];
  const unknown = [];
  let checked = 0;
  for (const el of root.querySelectorAll("*")) {
    if (SKIP.has(el.tagName) || (within && !el.closest(within))) continue;
    let text = "";
    let colourOf = null;
    if (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA") {
      if (el.tagName === "INPUT" && NO_TEXT.has(el.type)) continue;
      if (el.tagName === "SELECT") text = el.selectedOptions[0]?.textContent || "";
      else if (el.value) text = el.value;
      else if (el.placeholder) {
        text = el.placeholder;
        colourOf = getComputedStyle(el, "::placeholder").color;
      }
    } else {
      for (const n of el.childNodes) if (n.nodeType === 3) text += n.textContent.trim() + " ";
    }
    text = text.trim();
    if (!text || !seen(el)) continue;
    if (el.closest(":disabled, [aria-disabled=true]")) continue; // inactive: WCAG 1.4.3 exempts
    const cs = getComputedStyle(el);
    const svg = el instanceof SVGElement;
    const fg = parse(colourOf || (svg ? cs.fill : cs.color));
    let size = parseFloat(cs.fontSize);
    if (svg && el.getScreenCTM()) size *= Math.abs(el.getScreenCTM().a);
    const weight = parseInt(cs.fontWeight, 10) || 400;
    const need = size >= 24 || (size >= 18.66 && weight >= 700) ? 3 : 4.5;
    checked++;
    if (!fg) {
      unknown.push(`${describe(el)} "${text.slice(0, 40)}": colour ${colourOf || cs.color}`);
      continue;
    }
    const shown = paint(el, fg);
    const r = ratio(shown.fg, shown.bg);
    if (shown.images.length) unknown.push(`${describe(el)}: image on ${shown.images.join(", ")}`);
    if (r < need)
      failures.push({
        where: describe(el),
        text: text.slice(0, 60),
        fg: hex(shown.fg),
        bg: hex(shown.bg),
        ratio: Math.round(r * 100) / 100,
        need,
        size: Math.round(size * 10) / 10,
        weight,
      });
  }
  return { checked, failures, unknown };
""",
)

HOVERABLE = "button:not(:disabled), a[href], summary"

# The visible form controls, marked, so that the accessibility tree can be asked about them.
MARK_CONTROLS_JS = in_page(
    "rootSelector",
    r"""
  const root = document.querySelector(rootSelector) || document.body;
  const out = [];
  for (const el of document.querySelectorAll("[data-a11y-i]")) el.removeAttribute("data-a11y-i");
  for (const el of root.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden" || !seen(el)) continue;
    el.setAttribute("data-a11y-i", String(out.length));
    out.push(label(el));
  }
  return out;
""",
)

# Where an accessible name may come from for the claim "every control has a label".
NAME_SOURCES_OK = {"attribute", "relatedElement", "contents", "implicit", "style"}

# The focusable, enabled, visible controls, marked; radios count once per group.
MARK_FOCUSABLE_JS = in_page(
    "",
    r"""
  const focusable = "button, input:not([type=hidden]), select, textarea, a[href], summary, "
    + "[tabindex]:not([tabindex='-1'])";
  const out = [];
  for (const el of document.querySelectorAll("[data-kb]")) el.removeAttribute("data-kb");
  for (const el of document.querySelectorAll(focusable)) {
    if (el.matches(":disabled") || el.closest("[inert]") || !seen(el)) continue;
    const key = el.type === "radio" && el.name ? `radio:${el.name}` : `c${out.length}`;
    el.setAttribute("data-kb", key);
    out.push([key, label(el)]);
  }
  return out;
""",
)

FOCUSED_JS = in_page(
    "",
    r"""
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
  const shadow = cs.boxShadow && cs.boxShadow !== "none";
  return {
    key: el.getAttribute("data-kb"),
    what: label(el),
    indicator: Boolean(outline || shadow),
    style: `outline ${cs.outlineStyle} ${cs.outlineWidth}; box-shadow ${cs.boxShadow}`,
  };
""",
)

# Tablet targets smaller than the claim: 48 px, 72 px for the ballot (.huge) buttons.
TARGETS_JS = in_page(
    "",
    r"""
  const out = [];
  const controls = "button, input:not([type=hidden]), select, textarea, a[href], summary";
  for (const el of document.querySelectorAll(controls)) {
    if (!seen(el)) continue;
    // A checkbox is pressed through its label as well.
    const target = ((el.type === "checkbox" || el.type === "radio") && el.closest("label")) || el;
    const r = target.getBoundingClientRect();
    const need = el.matches(".huge") ? 72 : 48;
    if (r.height < need - 0.5 || r.width < 47.5)
      out.push(`${label(el)} is ${Math.round(r.width)}×${Math.round(r.height)} px (needs ${need})`);
  }
  return out;
""",
)


class Audit:
    """Findings over every page and state visited."""

    def __init__(self) -> None:
        self.checked = 0
        self.hovered = 0
        self.controls = 0
        self.contrast: list[str] = []
        self.unknown: list[str] = []
        self.names: list[str] = []
        self.targets: list[str] = []

    def failed(self, where: str, found: dict[str, Any]) -> None:
        for f in found["failures"]:
            self.contrast.append(
                f'{where}: {f["where"]} "{f["text"]}" {f["fg"]} on {f["bg"]} = {f["ratio"]}:1'
                f" (needs {f['need']}:1; {f['size']} px, weight {f['weight']})"
            )

    def contrast_of(self, page: Page, where: str, root: str = "body") -> None:
        found = page.evaluate(CONTRAST_JS, {"rootSelector": root, "within": None})
        self.checked += found["checked"]
        self.failed(where, found)
        self.unknown += [f"{where}: {u}" for u in found["unknown"]]

    def names_of(self, page: Page, where: str, root: str = "body") -> None:
        controls: list[str] = page.evaluate(MARK_CONTROLS_JS, root)
        self.controls += len(controls)
        cdp = page.context.new_cdp_session(page)
        try:
            doc = cdp.send("DOM.getDocument", {"depth": 0})
            ids = cdp.send(
                "DOM.querySelectorAll",
                {"nodeId": doc["root"]["nodeId"], "selector": "[data-a11y-i]"},
            )["nodeIds"]
            assert len(ids) == len(controls), (len(ids), controls)
            for node_id in ids:
                attrs = cdp.send("DOM.getAttributes", {"nodeId": node_id})["attributes"]
                index = int(attrs[attrs.index("data-a11y-i") + 1])
                ax = cdp.send(
                    "Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False}
                )["nodes"][0]
                name = ax.get("name", {})
                used = [
                    s
                    for s in name.get("sources", [])
                    if not s.get("superseded") and (s.get("value") or {}).get("value")
                ]
                source = used[0].get("type") if used else None
                if not str(name.get("value", "")).strip():
                    self.names.append(f"{where}: {controls[index]} has no accessible name")
                elif source not in NAME_SOURCES_OK:
                    self.names.append(
                        f"{where}: {controls[index]} is named only by its {source}:"
                        f' "{name.get("value")}"'
                    )
        finally:
            cdp.detach()

    def hovered_contrast_of(self, page: Page, where: str, root: str = "body") -> None:
        """The same with every link and enabled button under the pointer at once (the
        hover colours; forced through the DevTools protocol, as the mouse holds one)."""
        cdp = page.context.new_cdp_session(page)
        try:
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            doc = cdp.send("DOM.getDocument", {"depth": 0})
            ids = cdp.send(
                "DOM.querySelectorAll",
                {"nodeId": doc["root"]["nodeId"], "selector": f"{root} :is({HOVERABLE})"},
            )["nodeIds"]
            for node_id in ids:
                cdp.send(
                    "CSS.forcePseudoState", {"nodeId": node_id, "forcedPseudoClasses": ["hover"]}
                )
            found = page.evaluate(CONTRAST_JS, {"rootSelector": root, "within": HOVERABLE})
            self.hovered += found["checked"]
            self.failed(f"{where}, hovered", found)
        finally:
            cdp.detach()  # drops the forced states

    def targets_of(self, page: Page, where: str) -> None:
        self.targets += [f"{where}: {t}" for t in page.evaluate(TARGETS_JS)]

    def page(self, page: Page, where: str, root: str = "body") -> None:
        self.contrast_of(page, where, root)
        self.hovered_contrast_of(page, where, root)
        self.names_of(page, where, root)


def login(
    browser: Any,
    hub: Hub,
    path: str,
    user: str | None,
    size: tuple[int, int],
    audit: Audit | None = None,
) -> Page:
    """A page of its own, logged in as `user`; the login form audited first if asked."""

    def audit_form(page: Page) -> None:
        assert audit is not None
        audit.page(page, f"{path} login form")
        if path == "/delegate/":
            audit.targets_of(page, "delegate login form")

    _ctx, page = open_page(
        browser,
        hub,
        path,
        size=size,
        user=user,
        before_login=audit_form if audit else None,
        ready=None,
    )
    return page  # type: ignore[no-any-return]


def ok(answer: Any) -> Any:
    assert answer.get("ok"), answer
    return answer


def open_vote(hub: Hub, ballots: dict[str, str]) -> str:
    ok(hub.command(CHAIR, {"type": "vote.open", "motion": "mo3", "duration_s": 900}))
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    vid = next(v["id"] for v in state["votes"].values() if v["status"] == "open")
    for member, choice in ballots.items():
        ok(hub.command(member, {"type": "vote.cast", "vote": vid, "choice": choice}))
    return str(vid)


def in_session_with_a_speaker(hub: Hub) -> None:
    """Quorate and in session on the debate item; SPEAKER has the floor, WAITING is next,
    the draft resolution is presented."""
    hub.check_in(*[f"db{i:02d}" for i in range(1, 23)])
    for cmd in (
        {"type": "sitting.open"},
        {"type": "sitting.start"},
        {"type": "agenda.move", "item": "thao-luan"},
    ):
        ok(hub.command(CHAIR, cmd))
    for member in (SPEAKER, WAITING):
        ok(hub.command(member, {"type": "floor.request", "kind": "contribution"}))
    ok(hub.command(CHAIR, {"type": "floor.next"}))
    state = hub.http("GET", f"/api/sittings/{hub.sitting}")
    doc = next(iter(state["documents"]))
    ok(hub.command(CHAIR, {"type": "doc.present", "doc": doc, "page": 1}))


def report(title: str, lines: list[str]) -> str:
    return f"{len(lines)} {title}:\n  " + "\n  ".join(lines)


def test_contrast_and_names_on_every_console(browser: Any, hub: Hub, shots: Any) -> None:
    in_session_with_a_speaker(hub)
    approvals = {f"db{i:02d}": "approve" for i in range(6, 21)}  # 16 with the speaker's
    vid = open_vote(hub, {**approvals, "db21": "reject", "db22": "abstain"})
    audit = Audit()

    chair = login(browser, hub, "/chair/", CHAIR, (1440, 900))
    speaker = login(browser, hub, "/delegate/", SPEAKER, (1024, 1366))
    waiting = login(browser, hub, "/delegate/", WAITING, (1024, 1366), audit)
    gallery = login(browser, hub, "/gallery/", None, (1920, 1080))
    try:
        # The vote is open, a speaker's countdown runs.
        expect(chair.locator("[data-testid=c-ballots]")).to_contain_text("17/22")
        expect(chair.locator("[data-testid=countdown]").first).to_be_visible()
        chair.get_by_role("button", name="Xem danh sách đại biểu").click()
        expect(chair.locator("table.attendance")).to_be_visible()
        audit.page(chair, "chair, vote open")
        chair.keyboard.press("e")  # the confirmation dialog
        expect(chair.locator("dialog[open]")).to_be_visible()
        audit.page(chair, "chair, confirmation", "dialog[open]")
        chair.keyboard.press("Escape")
        expect(chair.locator("dialog[open]")).to_have_count(0)

        expect(speaker.locator("[data-testid=my-turn] [data-testid=countdown]")).to_be_visible()
        expect(speaker.locator("[data-testid=vote-approve]")).to_be_visible()
        audit.page(speaker, "delegate speaking, vote open")
        audit.targets_of(speaker, "delegate speaking, vote open")
        shots(speaker, "a11y-delegate-vote-open")
        speaker.locator("[data-testid=vote-approve]").click()
        expect(speaker.locator("[data-testid=confirm-ballot]")).to_be_visible()
        audit.page(speaker, "delegate, ballot to confirm", "[data-testid=d-vote]")
        audit.targets_of(speaker, "delegate, ballot to confirm")
        speaker.locator("[data-testid=confirm-ballot]").click()
        expect(speaker.locator("[data-testid=my-ballot]")).to_be_visible()
        audit.page(speaker, "delegate, ballot cast", "[data-testid=d-vote]")

        expect(waiting.locator("[data-testid=now-speaking]")).to_be_visible()
        expect(waiting.locator("[data-testid=my-request]")).to_be_visible()
        audit.page(waiting, "delegate waiting")
        audit.targets_of(waiting, "delegate waiting")

        expect(gallery.locator("[data-testid=g-ballots]")).to_contain_text("18/22")
        expect(gallery.locator("[data-testid=g-speaker]")).to_be_visible()
        audit.page(gallery, "gallery, vote open")
        shots(gallery, "a11y-gallery-vote-open")

        # The vote passes; then a second one fails: both verdict colours are shown.
        ok(hub.command(CHAIR, {"type": "vote.close", "vote": vid}))
        expect(gallery.locator("[data-testid=verdict] .passed").first).to_be_visible()
        expect(gallery.locator("[data-testid=g-doc] [data-testid=doc-viewer]")).to_have_attribute(
            "data-state", "ok", timeout=ms(15)
        )
        audit.page(gallery, "gallery, result passed")
        shots(gallery, "a11y-gallery-result")
        expect(chair.locator("[data-testid=verdict]")).to_be_visible()
        audit.page(chair, "chair, result and vote setup")
        shots(chair, "a11y-chair-result", full=True)
        expect(speaker.locator("[data-testid=verdict]")).to_be_visible()
        audit.page(speaker, "delegate, result")
        audit.targets_of(speaker, "delegate, result")
        shots(speaker, "a11y-delegate-result", full=True)

        vid = open_vote(hub, {"db06": "approve", "db07": "reject"})
        ok(hub.command(CHAIR, {"type": "vote.close", "vote": vid}))
        expect(gallery.locator("[data-testid=verdict] .failed").first).to_be_visible()
        audit.page(gallery, "gallery, result failed", "[data-testid=g-vote]")
        expect(chair.locator("[data-testid=verdict] .failed").first).to_be_visible()
        audit.page(chair, "chair, result failed", "[data-testid=c-vote]")
    finally:
        for p in (chair, speaker, waiting, gallery):
            p.context.close()

    operator = login(browser, hub, "/operator/", "vanhanh", (1280, 900), audit)
    try:
        expect(operator.get_by_role("tab", name="Hội đồng")).to_be_visible()
        audit.page(operator, "operator, councils")
        operator.get_by_role("tab", name="Đại biểu và tài khoản").click()
        reset = operator.get_by_role("button", name="Cấp lại mật khẩu: Nguyễn Văn An")
        reset.click()  # db01's card; its session on the closed chair page no longer matters
        operator.get_by_role("dialog").get_by_role("button", name="Cấp lại mật khẩu").click()
        expect(operator.locator(".login-card")).to_have_count(1)
        audit.page(operator, "operator, members and a login card")
        for tab in ("Kỳ họp và chương trình", "Tài liệu", "Điểm danh tại hội trường"):
            operator.get_by_role("tab", name=tab).click()
            expect(operator.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            operator.locator("[role=tabpanel] section").first.wait_for()
            if tab.startswith("Điểm danh"):
                expect(operator.locator("[data-testid=quorum-count]")).to_be_visible()
            audit.page(operator, f"operator, {tab}")
    finally:
        operator.context.close()

    print(
        f"contrast: {audit.checked} texts checked, {audit.hovered} more under a hover;"
        f" names: {audit.controls} controls checked"
    )
    for u in audit.unknown:
        print("not measured:", u)
    problems = []
    if audit.contrast:
        problems.append(report("texts below WCAG AA contrast", audit.contrast))
    if audit.names:
        problems.append(report("controls without a proper accessible name", audit.names))
    if audit.targets:
        problems.append(report("delegate targets below the size claimed", audit.targets))
    assert not problems, "\n".join(problems)
    assert audit.checked > 300 and audit.controls > 100, (audit.checked, audit.controls)
    assert not audit.unknown, audit.unknown


def tab_through(page: Page, where: str) -> list[str]:
    """Press Tab until every control came round once; what Tab missed and where the focus
    showed no indicator."""
    expected = dict(page.evaluate(MARK_FOCUSABLE_JS))
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.click(2, 2)  # a sequential-navigation start at the top of the page
    reached: set[str] = set()
    problems: list[str] = []
    for _ in range(len(expected) + 6):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None:
            continue
        if focused["key"]:
            reached.add(focused["key"])
        if not focused["indicator"]:
            problems.append(
                f"{where}: no focus indicator on {focused['what']} ({focused['style']})"
            )
    problems += [
        f"{where}: Tab never reaches {what}" for key, what in expected.items() if key not in reached
    ]
    assert len(expected) > 15, expected
    return problems


def test_chair_console_by_keyboard_alone(browser: Any, hub: Hub, shots: Any) -> None:
    in_session_with_a_speaker(hub)
    vid = open_vote(hub, {"db06": "approve"})
    chair = login(browser, hub, "/chair/", CHAIR, (1440, 900))
    try:
        expect(chair.locator("[data-testid=c-ballots]")).to_contain_text("1/22")
        chair.get_by_role("button", name="Xem danh sách đại biểu").click()
        problems = tab_through(chair, "vote open")
        chair.keyboard.press("Tab")
        shots(chair, "a11y-chair-focus")
        ok(hub.command(CHAIR, {"type": "vote.close", "vote": vid}))
        expect(chair.locator("[data-testid=open-vote]")).to_be_visible()
        problems += tab_through(chair, "vote setup")
    finally:
        chair.context.close()
    assert not problems, "\n".join(problems)
