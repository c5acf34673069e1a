/**
 * Entry for `npx ts-node test-server` and `npx tsx test-server` from the repository root.
 * @see ./src/index.ts
 */
import { main } from './src/index';

void main(process.argv.slice(2));
