/**
 * The test server's command line. `npx ts-node src/index.ts --mode oauth --port 3456` (the
 * seed's step 1) runs it directly; ../index.ts is the same entry for the repository root.
 */
import { banner, HELP, parseCli, UsageError } from './cli';
import { ListenError, startTestServer } from './server';

/** Runs the CLI; resolves once the server listens (or with the exit code of a failure). */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`test-server: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  try {
    const server = await startTestServer(parsed.options);
    const stop = () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    // Before the banner: whoever waits for it may signal at once.
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    console.log(banner(server));
  } catch (err) {
    if (err instanceof ListenError) {
      const fix =
        err.code === 'EADDRINUSE'
          ? 'stop the other process or pass --port <free port> (0 picks one)'
          : 'pass another --port';
      console.error(`test-server: ${err.message}: ${fix}`);
      process.exitCode = 1;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`test-server: failed to start: ${message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main();
}
