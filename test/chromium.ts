/**
 * Headless Chromium driven over the DevTools protocol on its debugging pipe
 * (file descriptors 3 and 4, NUL-separated JSON): open a page, evaluate an
 * expression in it (the DOM as the browser built it, and its layout), take a
 * screenshot of the whole page. No package needed: Debian's chromium alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export interface Page {
  /** the value of a JS expression evaluated in the page (returned by value) */
  evaluate<T>(expression: string): Promise<T>;
  /** a PNG of the whole page, written to `path` */
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function openPage(browser: string, url: string, options: { profile: string; width: number; height: number }): Promise<Page> {
  const child: ChildProcess = spawn(
    browser,
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--remote-debugging-pipe', `--user-data-dir=${options.profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let next = 0;
  const waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  const events: { method: string; sessionId?: string }[] = [];
  let buffered = '';
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; sessionId?: string };
      buffered = buffered.slice(end + 1);
      if (message.id === undefined) {
        if (message.method) events.push({ method: message.method, sessionId: message.sessionId });
        continue;
      }
      const call = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) call?.reject(new Error(`Chromium: ${message.error.message}`));
      else call?.resolve(message.result);
    }
  });
  child.on('exit', (code) => {
    for (const call of waiting.values()) call.reject(new Error(`Chromium exited (${code}): ${stderr}`));
    waiting.clear();
  });
  const send = (method: string, params: object = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = (next += 1);
      waiting.set(id, { resolve, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const until = async (test: () => boolean, what: string) => {
    for (let waited = 0; !test(); waited += 50) {
      if (waited > 60_000) throw new Error(`Chromium: no ${what} within 60 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  await send('Emulation.setDeviceMetricsOverride', { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false }, sessionId);
  await send('Page.navigate', { url }, sessionId);
  await until(() => events.some((event) => event.method === 'Page.loadEventFired' && event.sessionId === sessionId), 'load event');

  return {
    async evaluate<T>(expression: string): Promise<T> {
      const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
      if (exceptionDetails) throw new Error(`In the page: ${JSON.stringify(exceptionDetails.exception?.description ?? exceptionDetails.text)}`);
      return result.value as T;
    },
    async screenshot(path: string): Promise<void> {
      const { cssContentSize } = await send('Page.getLayoutMetrics', {}, sessionId);
      const clip = { x: 0, y: 0, width: options.width, height: Math.ceil(cssContentSize.height), scale: 1 };
      const { data } = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip }, sessionId);
      writeFileSync(path, Buffer.from(data as string, 'base64'));
    },
    async close(): Promise<void> {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await send('Browser.close').catch(() => undefined);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill();
    },
  };
}
