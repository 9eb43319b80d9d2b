/**
 * The CLI tests run the compiled binary, as a user would after `npm ci`;
 * compile once so they never test a stale dist/.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
