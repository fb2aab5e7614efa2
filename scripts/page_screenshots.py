"""Screenshots of every saved view of a benchopt result page, in Chromium.

    python scripts/page_screenshots.py outputs/<page>.html docs/pages \\
        [--dataset PREFIX ...] [--width 800] [--optimize]

benchopt's result page loads plotly.js from a CDN; ``local_copy`` writes a
copy of the page that loads the ``plotly.min.js`` shipped by the installed
``plotly`` package instead, drops the other remote resources (web fonts,
gridjs, the animation of the brand) and works offline. ``Chromium`` drives
a headless Chromium over the DevTools protocol on a pipe (standard library
only, no port, no driver). ``show_view`` clicks a saved view for one
dataset, waits until plotly has drawn it and returns what it drew: the
y-axis range, the plot rectangle, the traces; ``screenshot`` saves the
figure (plot and legend) as a PNG.

``find_chromium`` returns None where no Chromium is installed (Debian:
``apt-get install chromium``); callers skip with that reason.
"""

import argparse
import base64
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tempfile
import time

# Chromium as root in a container, offline: no sandbox, no GPU, and none
# of the background traffic (updates, sync, field trials) it starts on its
# own; a fresh profile each time.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars",
         "--remote-debugging-pipe")

PLOTLY_TAG = re.compile(r'<script src="https://cdn\.plot\.ly/[^"]*"></script>')
REMOTE_TAG = re.compile(
    r'<(?:link[^>]*href|script[^>]*src)="https?://[^"]*"[^>]*>(?:</script>)?')

# plotly.js 2 (the CDN's) reads a string `title`; plotly.js >= 3 (the
# package's) only `title.text`: give the page's layouts the object form so
# the titles show as they do online.
TITLE_SHIM = """<script>
(function () {
  const wrap = (t) => (typeof t === 'string' ? {text: t} : t);
  const fix = (layout) => {
    if (!layout) return layout;
    layout.title = wrap(layout.title);
    ['xaxis', 'yaxis'].forEach(a => {
      if (layout[a]) layout[a].title = wrap(layout[a].title);
    });
    return layout;
  };
  const react = Plotly.react;
  Plotly.react = (div, data, layout, config) =>
    react(div, data, fix(layout), config);
})();
</script>"""
# the brand animation's library, as a no-op
ANIME_STUB = ("<script>window.anime = {timeline: () => "
              "({add() { return this; }})};</script>")


def find_chromium():
    """Path of a Chromium binary ($CHROMIUM, then the usual names), or
    None."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def plotly_js():
    """The plotly.min.js of the installed ``plotly`` package."""
    import plotly
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise FileNotFoundError(f"no plotly.min.js in {path.parent}")
    return path


def local_copy(page, folder):
    """Write ``folder/page.html``: ``page`` with plotly.js from the
    installed package and no remote resource. Raises ValueError if the
    page has no plotly script tag (benchopt changed its template)."""
    html = Path(page).read_text(encoding="utf-8")
    if not PLOTLY_TAG.search(html):
        raise ValueError(f"{page}: no plotly.js <script> tag from the CDN")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(plotly_js(), folder / "plotly.min.js")
    html = PLOTLY_TAG.sub(
        lambda m: '<script src="plotly.min.js"></script>' + TITLE_SHIM, html)
    html = REMOTE_TAG.sub("", html)
    html = html.replace("<script>", ANIME_STUB + "<script>", 1)
    out = folder / "page.html"
    out.write_text(html, encoding="utf-8")
    return out


class Chromium:
    """A headless Chromium and one page, driven over the DevTools protocol
    on file descriptors 3 and 4 (``--remote-debugging-pipe``: JSON
    messages separated by NUL bytes).

    Every call waits for its answer (``timeout`` seconds at most) and
    raises RuntimeError with Chromium's message if the call failed or the
    browser went away.
    """

    def __init__(self, binary, width=800, height=500, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        def pipes():  # in the child: the protocol's fds 3 and 4
            read, write = os.dup(to_browser), os.dup(from_browser)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}",
             "about:blank"], preexec_fn=pipes, close_fds=False,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")
        self.session = self.call("Target.attachToTarget", flatten=True,
                                 targetId=target["targetId"])["sessionId"]
        for domain in ("Page", "Runtime"):
            self.call(f"{domain}.enable", page=True)
        self.resize(width, height)

    def call(self, method, page=False, **params):
        """Send one protocol command; return its result."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if page:
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _next(self, deadline):
        import select
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise RuntimeError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe:\n"
                                   + self.stderr()[-2000:])
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def resize(self, width, height):
        self.call("Emulation.setDeviceMetricsOverride", page=True,
                  width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def evaluate(self, expression):
        """The value of a JavaScript expression (promises awaited); raises
        RuntimeError with the exception's text if it throws."""
        result = self.call("Runtime.evaluate", page=True,
                           expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description",
                                                    details.get("text"))
            raise RuntimeError(f"JavaScript error: {text}")
        return result["result"].get("value")

    def open(self, path, ready="true"):
        """Load a local file and wait until ``ready`` (a JavaScript
        expression) is true."""
        self.call("Page.navigate", page=True, url=Path(path).resolve()
                  .as_uri())
        self.wait_for(f"document.readyState === 'complete' && ({ready})")

    def wait_for(self, condition, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.evaluate(f"!!({condition})"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {condition}")
            time.sleep(0.05)

    def exceptions(self):
        """The page's uncaught JavaScript exceptions since the last call."""
        found = [e["params"]["exceptionDetails"] for e in self.events
                 if e.get("method") == "Runtime.exceptionThrown"]
        self.events = []
        return found

    def screenshot(self, path, clip, width=None):
        """Save the page region ``clip`` = (x, y, width, height) as PNG,
        scaled to ``width`` pixels (None: as is)."""
        x, y, w, h = clip
        scale = 1 if width is None else width / w
        data = self.call("Page.captureScreenshot", page=True, format="png",
                         captureBeyondViewport=True,
                         clip=dict(x=x, y=y, width=w, height=h,
                                   scale=scale))
        Path(path).write_bytes(base64.b64decode(data["data"]))

    def close(self):
        if self.process.poll() is None:
            try:
                self.call("Browser.close")
            except RuntimeError:
                pass
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# In the page: the saved views and, per plot kind, the datasets offered.
VIEWS_JS = """(() => {
  const views = window.metadata.plot_configs;
  const datasets = {};
  for (const kind of Object.keys(window._plots)) {
    const select = document.getElementById(`change_${kind}_dataset`);
    if (select) datasets[kind] = [...select.options].map(o => o.value);
  }
  return {views, datasets};
})()"""

# Show view `name` for dataset `dataset` (null: the page's choice), wait
# until plotly has drawn it, return what is on screen.
SHOW_JS = """(async (name, dataset) => {
  const view = window.metadata.plot_configs[name];
  const kind = view.plot_kind;
  if (dataset !== null) {    // picked with the view: one redraw, not two
    const select = document.getElementById(`change_${kind}_dataset`);
    if (select) select.value = dataset;
    window._state[`${kind}_dataset`] = dataset;
  }
  const tab = [...document.querySelectorAll('#view-tabs .view')]
    .find(s => s.textContent.trim() === name);
  setConfig(tab);
  const div = getPlotDiv();
  for (let i = 0; i < 200 && !(div._fullLayout && div._fullLayout._size
       && div.querySelector('.main-svg')); i++) {
    await new Promise(r => setTimeout(r, 25));
  }
  await Plotly.Plots.resize(div);
  // let plotly finish its pending redraws (automargin, log ticks) before
  // the next view purges this one, as a reader's next click would
  for (let i = 0; i < 100 && (div._promises || []).length; i++) {
    await new Promise(r => setTimeout(r, 20));
  }
  await new Promise(r => setTimeout(r, 100));
  await new Promise(r => requestAnimationFrame(() =>
    requestAnimationFrame(r)));
  const fl = div._fullLayout;
  const box = div.getBoundingClientRect();
  const legend = document.getElementById('legend_container');
  let bottom = box.bottom;
  if (legend.style.display !== 'none' && isChart('scatter')) {
    bottom = Math.max(bottom, legend.getBoundingClientRect().bottom);
  }
  const axis = (a) => a ? {type: a.type, range: a.range,
                           title: a.title && a.title.text} : null;
  const finite = (ys) => (ys || []).filter(
    y => typeof y === 'number' && isFinite(y));
  const plot = getPlotData();
  return {
    view: name, kind: kind, type: plot.type,
    dataset: state()[`${kind}_dataset`] ?? null,
    title: plot.title, xaxis: axis(fl.xaxis), yaxis: axis(fl.yaxis),
    plot_rect: [box.left + fl._size.l, box.top + fl._size.t,
                fl._size.w, fl._size.h],
    figure_rect: [box.left, box.top, box.width, bottom - box.top],
    annotations: (fl.annotations || []).map(a => a.text),
    traces: div._fullData.map(t => {
      const ys = finite(Array.from(t.y || []));
      return {name: t.name ?? null, type: t.type, visible: t.visible,
              n_finite: ys.length,
              y_min: ys.length ? Math.min(...ys) : null,
              y_max: ys.length ? Math.max(...ys) : null};
    }),
    labels: plot.data.map(d => d.label),
  };
})"""

PAGE_READY = ("typeof Plotly !== 'undefined' && window._state !== undefined"
              " && document.querySelector('.main-svg') !== null")


def list_views(browser):
    """{'views': {name: options}, 'datasets': {kind: [names]}}."""
    return browser.evaluate(VIEWS_JS)


def show_view(browser, name, dataset=None):
    """Show saved view ``name`` (for ``dataset``) and describe it."""
    return browser.evaluate(
        f"{SHOW_JS}({json.dumps(name)}, {json.dumps(dataset)})")


def slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def split_name(name):
    """``base[a=1,b=(2, 3)]`` -> ("base", {"a": "1", "b": "(2, 3)"})."""
    base, _, rest = name.partition("[")
    parts = re.findall(r"([^=,]+)=(\([^)]*\)|[^,\]]*)", rest.rstrip("]"))
    return base, {k.strip(): v for k, v in parts}


def short_names(names):
    """{name: base_<params that differ between names of the same base>}:
    the file names of the screenshots."""
    split = {n: split_name(n) for n in names}
    out = {}
    for name, (base, params) in split.items():
        same = [p for b, p in split.values() if b == base]
        varying = [k for k in params
                   if len({p.get(k) for p in same}) > 1]
        out[name] = slug("_".join([base] + [f"{k}_{params[k]}"
                                            for k in varying]))
    return out


def render_views(page, out, datasets=None, width=800, binary=None,
                 viewport=(1400, 1000)):
    """Screenshot every saved view of ``page`` for every dataset whose name
    starts with one of ``datasets`` (None: all): PNGs
    ``out/<dataset>__<view>.png`` of the figure (plot and legend) drawn in
    a ``viewport``-sized window, scaled to ``width`` pixels. Returns the
    list of ``show_view`` descriptions, each with its ``png``."""
    binary = binary or find_chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium (apt-get install chromium)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as tmp, \
            Chromium(binary, *viewport) as browser:
        browser.open(local_copy(page, tmp), ready=PAGE_READY)
        loading = browser.exceptions()
        if loading:
            raise RuntimeError(f"{page}: JavaScript errors while loading: "
                               f"{loading}")
        listing = list_views(browser)
        for name, view in listing["views"].items():
            names = listing["datasets"].get(view["plot_kind"], [None])
            files = short_names([n for n in names if n])
            for dataset in names:
                if datasets and dataset and not any(
                        dataset.startswith(p) for p in datasets):
                    continue
                info = show_view(browser, name, dataset)
                png = out / (f"{files.get(dataset, 'all')}__"
                             f"{slug(name)}.png")
                browser.screenshot(png, info["figure_rect"], width)
                info["png"] = str(png)
                info["exceptions"] = browser.exceptions()
                shots.append(info)
    return shots


def optimize(png, colors=128):
    """Rewrite ``png`` with a palette of ``colors`` (Pillow), a few times
    smaller."""
    from PIL import Image
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=colors)
    small.save(png, optimize=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", help="a result page (benchopt run/plot)")
    parser.add_argument("out", help="folder for the PNG files")
    parser.add_argument("--dataset", action="append",
                        help="only datasets starting with this (repeatable)")
    parser.add_argument("--width", type=int, default=800,
                        help="width of the PNGs (default %(default)s)")
    parser.add_argument("--optimize", action="store_true",
                        help="palette PNGs, a few times smaller (Pillow)")
    args = parser.parse_args(argv)
    for shot in render_views(args.page, args.out, args.dataset, args.width):
        if args.optimize:
            optimize(shot["png"])
        print(f"{shot['png']}: y {shot['yaxis']['type']} "
              f"{shot['yaxis']['range']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
