// Open one notebook in JupyterLab with headless Chromium, run it, change one control of every explorer in it, and
// report (JSON on stdout) whether each explorer's output changed. Screenshots go to the given folder.
// usage: node drive.mjs BASE_URL NOTEBOOK SHOT_DIR [TIMEOUT_S]
import { chromium } from 'playwright-core';
import path from 'node:path';

const [, , base, notebook, shots, timeoutS = '600'] = process.argv;
const timeout = Number(timeoutS) * 1000;
const name = path.basename(notebook, '.ipynb');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const result = { notebook, explorers: [], errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on('pageerror', (e) => result.errors.push(String(e)));
  // a fresh workspace (?reset), so only this notebook is open; the app is exposed (LabApp.expose_app_in_browser)
  await page.goto(`${base}/lab/tree/${notebook}?reset`);
  const panel = `() => { for (const w of window.jupyterapp?.shell?.widgets('main') ?? []) if (w.context?.path === ${JSON.stringify(notebook)}) return w; }`;
  await page.waitForFunction(`(${panel})()?.sessionContext?.session?.kernel?.status === 'idle'`, null, { timeout, polling: 500 });
  const id = await page.evaluate(`(${panel})().id`);
  await page.evaluate(`window.jupyterapp.shell.activateById(${JSON.stringify(id)}); window.jupyterapp.commands.execute('notebook:run-all-cells')`);
  // done when every code cell has run and the kernel is idle again
  await page.waitForFunction(`(() => { const w = (${panel})();
    const cells = w.content.widgets.filter((c) => c.model.type === 'code');
    return w.sessionContext.session.kernel.status === 'idle' && cells.every((c) => c.model.executionCount !== null); })()`,
    null, { timeout, polling: 1000 });
  const failed = await page.evaluate(() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre')]
    .map((e) => e.textContent).filter((t) => /Error|Traceback/.test(t)));
  if (failed.length) result.errors.push(...failed);
  const explorers = page.locator(`#${id} .concept-attrib-explorer`);
  await explorers.first().waitFor({ timeout: 60000 });
  const n = await explorers.count();
  // what an explorer shows: its output widgets' images and HTML, not its controls
  const shown = (i) => page.evaluate(([i, id]) => {
    const ex = document.querySelectorAll(`#${CSS.escape(id)} .concept-attrib-explorer`)[i];
    const outs = [...ex.children].slice(1);
    return outs.map((o) => [...o.querySelectorAll('img')].map((m) => m.src).join('|') + '#' +
                           [...o.querySelectorAll('.widget-html-content')].map((h) => h.innerHTML).join('|')).join('||');
  }, [i, id]);
  for (let i = 0; i < n; i++) {
    const ex = explorers.nth(i);
    await ex.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, `${name}-${i}-before.png`) });
    const before = await shown(i);
    const controls = ex.locator(':scope > .widget-hbox').first();
    let changed = null;
    const select = controls.locator('select');
    if (await select.count() > 0 && (await select.first().locator('option').count()) > 1) {
      const options = await select.first().locator('option').allTextContents();
      const current = await select.first().evaluate((s) => s.selectedIndex);
      const next = (current + 1) % options.length;
      await select.first().selectOption({ index: next });
      changed = `dropdown -> ${options[next]}`;
    } else {
      const handle = controls.locator('.noUi-handle').first();
      await handle.focus();
      for (let k = 0; k < 3; k++) await handle.press('ArrowRight');
      changed = 'slider -> 3 steps right';
    }
    let ok = true;
    try {
      await page.waitForFunction(([i, before, id]) => {
        const ex = document.querySelectorAll(`#${CSS.escape(id)} .concept-attrib-explorer`)[i];
        const outs = [...ex.children].slice(1);
        const now = outs.map((o) => [...o.querySelectorAll('img')].map((m) => m.src).join('|') + '#' +
                                    [...o.querySelectorAll('.widget-html-content')].map((h) => h.innerHTML).join('|')).join('||');
        return now !== before && !ex.textContent.includes('updating…');
      }, [i, before, id], { timeout, polling: 500 });
    } catch (e) { ok = false; }
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, `${name}-${i}-after.png`) });
    const status = await ex.locator('.widget-html-content').first().innerText().catch(() => '');
    result.explorers.push({ index: i, control: changed, changed: ok, status });
  }
  await page.evaluate(`(${panel})().sessionContext.shutdown()`);   // free the kernel's memory for the next notebook
} catch (e) {
  result.errors.push(String(e));
  await browser.contexts()[0]?.pages()[0]?.screenshot({ path: path.join(shots, `${name}-error.png`) }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
