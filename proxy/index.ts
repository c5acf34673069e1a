/** `npx tsx proxy …`: the proxy's command line (see proxy/src/cli.ts). */
import { runCli } from './src/cli';

void runCli(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exitCode = code;
});
