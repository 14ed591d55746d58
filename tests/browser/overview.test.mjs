// overview.test.mjs - the lab's own page for the instructor, in a real lab:
// TMCM's /lab opens the Lab overview after TMCM's login; it draws the five
// appliances running and the seven links, the four STEPs' checklists, and a
// mail sent to IMSVA while the page is open arrives on the live timeline
// without a reload; a lost session brings the login form and the page comes
// back after it; `ctdlab status` prints the page's address.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ctdlab } from './lib/lab.mjs';
import { screenshot, withPage } from './lib/browser.mjs';
import { browserLab } from './lib/samples.mjs';

const env = browserLab();

function overviewUrl() {
  return new URL('/lab', env.lab.consoles.tmcm.url).href;
}

describe('Lab overview', () => {
  it('ctdlab status prints its address', () => {
    assert.match(env.lab.status(), new RegExp(`lab_overview\\s+${overviewUrl().replace(/[.]/g, '\\.')}`));
  });

  it('/lab: five appliances, their links, the STEPs, and the timeline live', async (t) => {
    await withPage(env.browser, t, async (page) => {
      const c = env.lab.consoles.tmcm;
      await page.goto(overviewUrl());
      await page.locator('input[name=password]').fill(c.password);
      await page.locator('#logon').click();
      await page.locator('#lab-diagram').waitFor();
      assert.match(page.url(), /#\/lab-overview$/);

      const boxes = page.locator('#lab-diagram .lab-box');
      assert.equal(await boxes.count(), 5);
      for (const a of ['imsva', 'ddi', 'ddan', 'tmcm', 'sps'])
        assert.equal(await page.locator(`#box-${a}`).getAttribute('data-healthy'), 'yes', a);
      assert.equal(await page.locator('#lab-diagram .lab-link').count(), 7);
      for (const state of await page.locator('#lab-diagram .lab-link').evaluateAll(
        (links) => links.map((l) => l.dataset.state)))
        assert.ok(['up', 'stale', 'down'].includes(state), state);
      assert.equal(await page.locator('#lab-steps > li').count(), 4);

      const subject = `overview live ${process.pid}`;
      ctdlab(env.lab.dir, ['send', '--to', 'student@ctdlab.test', '--subject', subject]);
      // the page polls: the row arrives without a reload
      await page.locator('#lab-timeline-rows tr', { hasText: subject }).first().waitFor();
      await screenshot(page, 'lab-overview');
    });
  });

  it('a lost session brings the login form, and logging in again brings the page back', async (t) => {
    await withPage(env.browser, t, async (page, log, context) => {
      const c = env.lab.consoles.tmcm;
      await page.goto(overviewUrl());
      await page.locator('input[name=password]').fill(c.password);
      await page.locator('#logon').click();
      await page.locator('#lab-diagram').waitFor();
      await context.clearCookies();
      // the next poll gets 401: the shell shows the login form, the polls stop
      await page.locator('input[name=password]').waitFor();
      await page.locator('input[name=password]').fill(c.password);
      await page.locator('#logon').click();
      await page.locator('#lab-diagram').waitFor();
      assert.equal(await page.locator('#lab-diagram .lab-box').count(), 5);
    });
  });
});
