// test_dashboard.js — Horizon (Debian's openstack-dashboard) against a cnova
// stack in Keystone mode, driven in headless Chromium by playwright-core.
//
// Logs in as demo: Project → Compute → Overview, Instances (launches one
// through the Launch Instance wizard, waits for Active, deletes it), Key
// Pairs (creates one); logs in as admin: Admin → Compute → Hypervisors,
// Flavors (creates one), Host Aggregates. Prints each step; FAILS on any
// Horizon error message (.alert-danger: Django messages and Angular error
// toasts alike, seen by a watcher in the page as they appear), on any answer
// of the dashboard with a status >= 500, and on a step that does not finish.
// Ends with "RESULT tests=N failures=F errors=0 skipped=0" as the Python
// suites do.
//
// Environment: CNOVA_DASHBOARD_URL (http://127.0.0.1:${CNOVA_DASHBOARD_PORT:-8780}),
// CNOVA_KEYSTONE_PASSWORD (secret), CHROMIUM (/usr/bin/chromium),
// CNOVA_DASHBOARD_SHOTS (a folder: a screenshot of each step's end).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const URL = (process.env.CNOVA_DASHBOARD_URL ||
    `http://127.0.0.1:${process.env.CNOVA_DASHBOARD_PORT || 8780}`).replace(/\/$/, '');
const PASSWORD = process.env.CNOVA_KEYSTONE_PASSWORD || 'secret';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.CNOVA_DASHBOARD_SHOTS || '';
const TAG = `dash${process.pid}`;
const STEP_TIMEOUT = 60000;      // one page or one click
const ACTIVE_TIMEOUT = 180000;   // an instance to become Active / go away

let page;
let problems = [];   // errors seen since the current step began
let steps = 0, failures = 0;

function log(s) { process.stdout.write(s + '\n'); }

// The page's error watcher: every 200 ms, any visible .alert-danger whose
// text it has not reported yet goes to cnovaError (a toast may live only a
// few seconds, so looking at the end of a step is not enough).
const WATCHER = `
(() => {
  const seen = new Set();
  setInterval(() => {
    for (const el of document.querySelectorAll('.alert-danger')) {
      if (!el.getClientRects().length) continue;
      const text = (el.innerText || '').replace(/\\s+/g, ' ').trim();
      if (!text || seen.has(text)) continue;
      seen.add(text);
      if (window.cnovaError) window.cnovaError(text);
    }
  }, 200);
})();`;

async function newPage(browser) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.exposeBinding('cnovaError', (source, text) => {
        problems.push(`Horizon error on ${source.page.url()}: ${text}`);
    });
    await context.addInitScript(WATCHER);
    const p = await context.newPage();
    p.setDefaultTimeout(STEP_TIMEOUT);
    p.on('response', (r) => {
        if (r.status() >= 500 && r.url().startsWith(URL))
            problems.push(`HTTP ${r.status()} from ${r.request().method()} ${r.url()}`);
    });
    p.on('pageerror', (e) => log(`   (page script error: ${e.message})`));
    return p;
}

// step NAME FN: runs FN, then gives the page a moment for late toasts; the
// step fails on an exception or on any problem seen meanwhile.
async function step(name, fn) {
    steps++;
    problems = [];
    const t0 = Date.now();
    let err = null;
    try {
        await fn();
        await page.waitForTimeout(700);
        const title = await page.title();
        if (/server error|something went wrong|page not found/i.test(title))
            problems.push(`error page: "${title}" at ${page.url()}`);
    } catch (e) {
        err = e;
    }
    if (SHOTS) {
        fs.mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, `${String(steps).padStart(2, '0')}.png`),
            fullPage: true }).catch(() => {});
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (!err && !problems.length) {
        log(`ok ${steps} - ${name} (${secs} s)`);
        return true;
    }
    failures++;
    log(`FAIL ${steps} - ${name} (${secs} s)`);
    for (const p of problems) log(`   ${p}`);
    if (err) log(`   ${String(err.message || err).split('\n').slice(0, 6).join('\n   ')}`);
    return false;
}

async function goto(p, heading) {
    const r = await page.goto(URL + p, { waitUntil: 'networkidle' });
    if (!r || r.status() >= 400) throw new Error(`GET ${p}: HTTP ${r ? r.status() : '(none)'}`);
    if (heading) await page.locator('.page-header h1', { hasText: heading }).waitFor();
}

async function login(user) {
    await page.context().clearCookies();
    await goto('/auth/login/');
    await page.fill('#id_username', user);
    await page.fill('#id_password', PASSWORD);
    await Promise.all([
        page.waitForURL((u) => !u.pathname.startsWith('/auth/login'), { waitUntil: 'networkidle' }),
        page.click('#loginBtn'),
    ]);
    // the user menu names who is logged in
    await page.locator('.dropdown-toggle', { hasText: user }).first().waitFor();
}

// the row of a Django table (Horizon's DataTable) whose name cell is NAME
function row(name) {
    return page.locator('table tbody tr').filter({
        has: page.locator('td', { hasText: new RegExp(`^\\s*${name}\\s*$`) }),
    });
}

// the wizard's transfer tables: allocate the available row named NAME
async function allocate(name) {
    const modal = page.locator('.modal-dialog');
    const r = modal.locator('tr').filter({
        has: page.locator('td', { hasText: new RegExp(`^\\s*${name}\\s*$`) }),
    }).filter({ has: page.locator('button.fa-arrow-up') }).first();
    await r.locator('button.fa-arrow-up').click();
    // allocated: it now shows under "Allocated", with the arrow down
    await modal.locator('tr').filter({ hasText: name })
        .filter({ has: page.locator('button.fa-arrow-down') }).first().waitFor();
}

async function wizardStep(title) {
    await page.locator('.modal-dialog .wizard-nav a, .modal-dialog .nav a', { hasText: title })
        .first().click();
}

async function main() {
    const browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await newPage(browser);
    const instance = `${TAG}-vm`, keypair = `${TAG}-key`, flavor = `${TAG}-flavor`;
    log(`Horizon at ${URL}/ (names ${TAG}-*)`);

    // ---------------------------------------------------------------- demo
    const demo = await step('log in as demo', () => login('demo'));
    if (demo) {
        await step('Project → Compute → Overview', async () => {
            await goto('/project/', 'Overview');
            await page.locator('text=Limit Summary').waitFor();
            await page.locator('text=Usage Summary').waitFor();
        });

        await step('Project → Compute → Instances', () => goto('/project/instances/', 'Instances'));

        const launched = await step(`Launch Instance wizard: ${instance}`, async () => {
            await page.click('#instances__action_launch-ng');
            const modal = page.locator('.modal-dialog');
            await modal.locator('input[name="name"]').waitFor();
            await modal.locator('input[name="name"]').fill(instance);
            const steps_ = await modal.locator('.wizard-nav li, .nav-pills li').allInnerTexts();
            log(`   wizard steps: ${steps_.map((s) => s.replace(/\s*\*\s*/g, '').trim()).join(', ')}`);
            await wizardStep('Source');
            // boot from an image (the default where there is no volume service)
            const source = modal.locator('select#boot-source-type');
            if (await source.count()) await source.selectOption({ label: 'Image' });
            await allocate('cirros-0.6.2-x86_64-disk');
            await wizardStep('Flavor');
            await allocate('m1.tiny');
            if (await modal.locator('.wizard-nav a, .nav a', { hasText: /^\s*Networks/ }).count()) {
                // a network service in the catalog: take the first network offered
                await wizardStep('Networks');
                const avail = modal.locator('tr').filter({ has: page.locator('button.fa-arrow-up') });
                if (await avail.count()) await avail.first().locator('button.fa-arrow-up').click();
            }
            const finish = modal.locator('button.finish');
            await finish.waitFor();
            if (!(await finish.isEnabled())) throw new Error('"Launch Instance" stays disabled');
            await finish.click();
            await modal.waitFor({ state: 'detached' });
            await row(instance).first().waitFor();
        });

        if (launched) {
            await step(`instance ${instance} is Active`, async () => {
                const r = row(instance).first();
                await r.locator('td', { hasText: /^\s*Active\s*$/ }).waitFor({ timeout: ACTIVE_TIMEOUT });
                log(`   row: ${(await r.innerText()).replace(/\s+/g, ' ').trim()}`);
            });

            await step(`delete instance ${instance}`, async () => {
                const r = row(instance).first();
                // a themed checkbox: the input is hidden, its label takes the click
                await r.locator('.themable-checkbox label').click();
                if (!(await r.locator('input.table-row-multi-select').isChecked()))
                    throw new Error('the row did not get selected');
                await page.click('#instances__action_delete');
                const confirm = page.locator('.modal-dialog .modal-footer .btn-danger, ' +
                    '.modal-dialog .modal-footer .btn-primary').first();
                await confirm.click();
                await row(instance).first().waitFor({ state: 'detached', timeout: ACTIVE_TIMEOUT });
            });
        }

        await step('Project → Compute → Key Pairs', () => goto('/project/key_pairs', 'Key Pairs'));

        await step(`create key pair ${keypair}`, async () => {
            await page.locator('button, a', { hasText: /^\s*Create Key Pair\s*$/ }).first().click();
            const modal = page.locator('.modal-dialog');
            await modal.locator('input[name="name"]').fill(keypair);
            await modal.locator('select[name="key-type"]').selectOption({ label: 'SSH Key' });
            // Horizon hands the new private key over as a download (keypair.pem)
            const [download] = await Promise.all([
                page.waitForEvent('download'),
                modal.locator('.modal-footer button', { hasText: /Create Key ?Pair/i }).click(),
            ]);
            log(`   private key offered as ${download.suggestedFilename()}`);
            await page.locator('.alert-success', { hasText: keypair }).first().waitFor();
            await page.locator('table tbody tr', { hasText: keypair }).first().waitFor();
        });
    }

    // --------------------------------------------------------------- admin
    const admin = await step('log in as admin', () => login('admin'));
    if (admin) {
        await step('Admin → Compute → Hypervisors', async () => {
            await goto('/admin/hypervisors/', 'All Hypervisors');
            await page.locator('text=Hypervisor Summary').waitFor();
            await page.locator('table tbody tr td', { hasText: /compute1/ }).first().waitFor();
        });

        await step('Admin → Compute → Flavors', () => goto('/admin/flavors/', 'Flavors'));

        await step(`create flavor ${flavor}`, async () => {
            await page.click('#flavors__action_create');
            const modal = page.locator('.modal-dialog');
            await modal.locator('#id_name').fill(flavor);
            await modal.locator('#id_vcpus').fill('1');
            await modal.locator('#id_memory_mb').fill('128');
            await modal.locator('#id_disk_gb').fill('1');
            await modal.locator('.modal-footer [type="submit"]').click();
            await modal.waitFor({ state: 'detached' });
            await row(flavor).first().waitFor();
        });

        await step('Admin → Compute → Host Aggregates', () => goto('/admin/aggregates/', 'Host Aggregates'));
    }

    await browser.close();
    log(`RESULT tests=${steps} failures=${failures} errors=0 skipped=0`);
    return failures ? 1 : 0;
}

main().then((rc) => process.exit(rc), (e) => {
    log(`FAIL - ${e.stack || e}`);
    log(`RESULT tests=${steps} failures=${failures} errors=1 skipped=0`);
    process.exit(1);
});
