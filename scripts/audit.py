"""`make audit`: the reader's view of the built site, measured, against its targets.

    .envs/build/bin/python scripts/audit.py [--site _build/html]

For every page with code (the chapters readers spend their time on), with the site served
on loopback and Debian's Chromium:
  * Lighthouse 12.2.3, mobile preset, the median of RUNS runs (its scores move from run to run
    with the machine's load; Lighthouse's advice is the median of five, docs/variability.md),
    its CPU slowdown calibrated when the machine measures slower than the hosts it suits:
    performance, accessibility, best practices and SEO 1.0;
  * axe-core at 1366×900 and 390×844, light and dark: no violation;
  * the page's weight with everything it can load (uncompressed) <= 1.2 MB, and what a reader of
    one framework loads reading it to its end, as served (gzip) <= 150 KB, for each framework;
and the site folder <= 10 MB. Prints a table, writes _build/audit/<page>.lighthouse.<run>.json,
and exits 1 if a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from books import CHROMIUM, FLAGS, VIEWS, Reader, launch_browser, read_in_one_framework, read_through, served  # noqa: E402

from bookbuild import environments  # noqa: E402
from bookbuild.config import PAGE_LIMIT_EVERYTHING, PAGE_LIMIT_GZIP, ROOT, SITE_LIMIT  # noqa: E402

LIGHTHOUSE = environments.node_modules("audit") / "lighthouse" / "cli" / "index.js"
TARGETS = {"performance": 1.0, "accessibility": 1.0, "best-practices": 1.0, "seo": 1.0}
RUNS = 5
DEFAULT_SLOWDOWN, CALIBRATED_INDEX = 4, 1500   # Lighthouse's CPU slowdown, and the host it suits


def pages_with_code(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if 'class="sphinx-tabs d2l-tabs' in p.read_text(encoding="utf-8"))


def lighthouse(url: str, out: Path) -> dict[str, float]:
    """Each category's median score over RUNS runs (each run's report: `out` with its number)."""
    runs = [_lighthouse_calibrated(url, out.with_suffix(f".{run + 1}.json")) for run in range(RUNS)]
    return {name: sorted(scores[name] for scores in runs)[RUNS // 2] for name in TARGETS}


def _lighthouse_calibrated(url: str, out: Path) -> dict[str, float]:
    """One run emulating the same phone whatever this machine's speed at the time. Lighthouse slows the
    host's CPU 4 times, which is calibrated for a host of benchmark index 1500 or more (its docs,
    throttling.md, "Calibrating the CPU slowdown": lower it on a weaker machine). A run that measured a
    slower host (a busy or shared machine) is run again with the slowdown scaled down to match."""
    report = _lighthouse_once(url, out)
    index = report["environment"]["benchmarkIndex"]
    if index < CALIBRATED_INDEX:
        slowdown = max(1.0, DEFAULT_SLOWDOWN * index / CALIBRATED_INDEX)
        report = _lighthouse_once(url, out, f"--throttling.cpuSlowdownMultiplier={slowdown:.2f}")
        print(f"  (Lighthouse: benchmark index {index:.0f} < {CALIBRATED_INDEX}: CPU slowdown {slowdown:.2f}, "
              f"not {DEFAULT_SLOWDOWN})")
    return {name: report["categories"][name]["score"] for name in TARGETS}


def _lighthouse_once(url: str, out: Path, *options: str) -> dict:
    done = subprocess.run(["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
                           "--only-categories=" + ",".join(TARGETS), *options,
                           f"--chrome-flags={' '.join(f for f in FLAGS if f != '--headless')} --headless=new "
                           # Headless Chrome's paint holding intermittently withholds a loaded page's first
                           # frame for one or two whole seconds (GoogleChrome/lighthouse#17148): a
                           # measurement artefact that a reader's browser does not show.
                           "--disable-features=PaintHolding"],
                          env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"audit: Lighthouse failed: {done.stderr.strip()[-800:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def browser_figures(base: str, page: str) -> tuple[dict[str, int], int, dict[str, int]]:
    """axe violations (nodes) per view and scheme, the bytes the page loads when read through in
    every framework, and (gzip, as served) in each framework alone."""
    from playwright.sync_api import sync_playwright

    violations, weight, one, frameworks = {}, 0, {}, []
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for view, options in VIEWS.items():
            for scheme in ("light", "dark"):
                reader = Reader(browser, view, scheme)
                tab = reader.open(f"{base}/{page}")
                found = reader.axe()
                violations[f"{options['viewport']['width']}×{options['viewport']['height']} {scheme}"] = \
                    sum(len(nodes) for _, nodes in found)
                if found:
                    print(f"  axe {view} {scheme}: {found}")
                if view == "desktop" and scheme == "light":
                    frameworks = tab.eval_on_selector_all("[data-d2l-choose]", "b => b.map(x => x.dataset.d2lChoose)")
                    weight = read_through(tab)
                reader.close()
        for name in frameworks:
            reader = Reader(browser, "desktop")
            one[name] = read_in_one_framework(reader.open(f"{base}/{page}?tab={name}"))
            reader.close()
        browser.close()
    return violations, weight, one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        sys.exit(f"audit: no site in {site}: run `make html` first")
    out = site.parent / "audit"
    out.mkdir(exist_ok=True)
    missed = []
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    print(f"site folder: {size / 1e6:.2f} MB (target <= {SITE_LIMIT / 1e6:.0f} MB)")
    if size > SITE_LIMIT:
        missed.append("site size")
    with served(site) as base:
        for page in pages_with_code(site):
            print(f"\n{page}")
            scores = lighthouse(f"{base}/{page}", out / (re.sub(r"\W", "-", page) + ".lighthouse.json"))
            for name, score in scores.items():
                ok = score is not None and score >= TARGETS[name]
                print(f"  Lighthouse {name:15} {score:.2f}  (target >= {TARGETS[name]:.2f}){'' if ok else '  MISSED'}")
                missed += [] if ok else [f"{page} {name}"]
            violations, weight, one = browser_figures(base, page)
            for view, count in violations.items():
                print(f"  axe {view:15} {count} violation node(s)")
                missed += [f"{page} axe {view}"] if count else []
            print(f"  page weight, read through in every framework: {weight / 1e6:.2f} MB "
                  f"(target <= {PAGE_LIMIT_EVERYTHING / 1e6:.1f} MB)")
            missed += [f"{page} weight"] if weight > PAGE_LIMIT_EVERYTHING else []
            for name, size in one.items():
                print(f"  page weight, read through in {name} only, gzip: {size / 1e3:.1f} KB "
                      f"(target <= {PAGE_LIMIT_GZIP / 1e3:.0f} KB)")
                missed += [f"{page} weight in {name}"] if size > PAGE_LIMIT_GZIP else []
    if missed:
        print("\nmissed: " + ", ".join(missed))
        return 1
    print("\nevery target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
