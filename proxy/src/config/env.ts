/**
 * `${NAME}` expansion in config values, so secrets stay in the environment: `${NAME}` is the
 * variable's value, `${NAME:-fallback}` uses the fallback when it is unset or empty, `$${` is a
 * literal `${`. A missing variable is reported with the field that referenced it.
 */
import { fieldPath, type Problem } from '../workspaces/validation';

const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A copy of `value` with every string expanded; problems list each variable that is missing. */
export function expandEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  const walk = (node: unknown, pointer: string): unknown => {
    if (typeof node === 'string') return expandString(node, env, pointer, problems);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${pointer}/${i}`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [
          key,
          walk(item, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
        ]),
      );
    }
    return node;
  };
  return { value: walk(value, ''), problems };
}

function expandString(
  text: string,
  env: NodeJS.ProcessEnv,
  pointer: string,
  problems: Problem[],
): string {
  return text.replace(REFERENCE, (match, dollar: string, name: string, fallback?: string) => {
    if (dollar === '$') return match.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    problems.push({
      field: fieldPath(pointer),
      message:
        `environment variable ${name} is not set (referenced as \${${name}}); ` +
        `export ${name}=… before starting, or write \${${name}:-default}`,
    });
    return '';
  });
}
