import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`); `.ci/run` installs it. */
export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

/** Flags for a quiet headless Chromium in a container: no sandbox, no GPU, no background network traffic. */
export const HEADLESS_CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium's software WebGPU (Dawn on SwiftShader): `navigator.gpu` on a machine without a GPU, in secure contexts. */
export const SOFTWARE_WEBGPU_ARGS: readonly string[] = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export interface HeadlessChromiumOptions {
  /** Expose WebGPU through SwiftShader (slow, CPU-only, but the real WebGPU API). Default false. */
  softwareWebGpu?: boolean;
}

/** Launch options for playwright-core's `chromium.launch` (plain data: core does not depend on playwright). */
export function headlessChromiumLaunchOptions(options: HeadlessChromiumOptions = {}): {
  executablePath: string;
  args: string[];
} {
  const args = [...HEADLESS_CHROMIUM_ARGS, ...(options.softwareWebGpu ? SOFTWARE_WEBGPU_ARGS : [])];
  return { executablePath: CHROMIUM_EXECUTABLE, args };
}

/**
 * Why browser tests must be skipped here, or undefined when Chromium is installed. Under `CI=true` a missing
 * Chromium is an error, not a skip: CI must run the browser tests.
 */
export function chromiumMissingReason(): string | undefined {
  if (existsSync(CHROMIUM_EXECUTABLE)) return undefined;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_EXECUTABLE} is missing; CI must run the browser tests`);
  return `${CHROMIUM_EXECUTABLE} is absent (apt-get install -y chromium)`;
}
